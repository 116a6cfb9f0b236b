# ngx_http_airflow_auth_module: build, test, demo and bench.
#
#   make              module .so and airflow-auth-admin into build/
#   make test         installs what it needs, runs every suite, plain and
#                     under ASan+UBSan
#   make check        the suites once, plain build only (quick loop)
#   make test-asan    the suites once, ASan+UBSan build only
#   make demo         the gateway on loopback
#   make bench        wrk: authenticated vs plain proxy_pass, same run
#   make fuzz         each libFuzzer harness for FUZZ_SECONDS

SHELL        := /bin/bash
NGINX_SRC    ?= /usr/share/nginx/src
BUILD        ?= build
SAN          ?=
PYTHON       ?= /usr/bin/python3
FUZZ_SECONDS ?= 60

MODDIR   := ngx_http_airflow_auth_module
CORE_SRC := $(wildcard $(MODDIR)/core/*.c)
CORE_HDR := $(wildcard $(MODDIR)/core/*.h)
NGX_SRC  := $(wildcard $(MODDIR)/*.c)
NGX_HDR  := $(wildcard $(MODDIR)/*.h)
UNIT_SRC := $(wildcard t/unit/test_*.c)
FUZZ_SRC := $(wildcard t/fuzz/fuzz_*.c)

PKGS       := jansson hiredis libcrypto cjose
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined
else
SAN_FLAGS :=
endif

CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wpointer-arith \
           -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ALL_CFLAGS := -std=gnu11 -fPIC $(WARN) $(CFLAGS) $(SAN_FLAGS) \
              -I$(MODDIR)/core $(PKG_CFLAGS)

CORE_OBJ := $(patsubst $(MODDIR)/core/%.c,$(BUILD)/core/%.o,$(CORE_SRC))
UNIT_BIN := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
FUZZ_BIN := $(patsubst t/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

MODULE := $(BUILD)/ngx_http_airflow_auth_module.so
ADMIN  := $(BUILD)/airflow-auth-admin

.PHONY: all module admin unit fuzz-replay deps check test test-plain \
        test-asan demo bench fuzz format format-check clean

all: $(MODULE) $(ADMIN)

module: $(MODULE)
admin: $(ADMIN)

$(BUILD)/core/%.o: $(MODDIR)/core/%.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libaa_core.a: $(CORE_OBJ)
	rm -f $@
	ar rcs $@ $^

$(ADMIN): tools/airflow-auth-admin.c $(BUILD)/libaa_core.a $(CORE_HDR)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libaa_core.a $(PKG_LIBS)

# The module is built by nginx's own build system, against the configure
# flags Debian's nginx was built with, so that load_module accepts it.
NGX_CC_OPT := $(strip $(SAN_FLAGS) -Wextra -Wno-unused-parameter \
              -Wno-missing-field-initializers)
NGX_LD_OPT := $(strip $(SAN_FLAGS))

$(BUILD)/nginx/objs/Makefile: config $(NGINX_SRC)/configure
	rm -rf $(BUILD)/nginx
	@mkdir -p $(BUILD)
	cp -r $(NGINX_SRC) $(BUILD)/nginx
	cd $(BUILD)/nginx && . ./conf_flags && \
	    ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --with-cc-opt="$(NGX_CC_OPT)" --with-ld-opt="$(NGX_LD_OPT)" \
	        --add-dynamic-module=$(CURDIR) > configure.log 2>&1 \
	    || { cat configure.log; exit 1; }

$(MODULE): $(BUILD)/nginx/objs/Makefile $(CORE_SRC) $(CORE_HDR) \
           $(NGX_SRC) $(NGX_HDR)
	$(MAKE) -C $(BUILD)/nginx -f objs/Makefile modules
	@# a new inode: workers that have the old .so mapped keep running
	cp $(BUILD)/nginx/objs/ngx_http_airflow_auth_module.so $@.tmp
	mv -f $@.tmp $@

$(BUILD)/unit/%: t/unit/%.c t/unit/aa_test.h $(BUILD)/libaa_core.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -It/unit -o $@ $< $(BUILD)/libaa_core.a \
	    $(PKG_LIBS) -lcmocka

# Fuzz harnesses built as plain programs that replay their seed corpus.
$(BUILD)/fuzz/%: t/fuzz/%.c t/fuzz/replay.c $(BUILD)/libaa_core.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< t/fuzz/replay.c $(BUILD)/libaa_core.a \
	    $(PKG_LIBS)

unit: $(UNIT_BIN)
fuzz-replay: $(FUZZ_BIN)

deps:
	@bash t/install-deps

# One pass of every suite against $(BUILD); t/run prints the closing count.
check: deps all unit fuzz-replay
	@BUILD=$(BUILD) SAN=$(SAN) PYTHON=$(PYTHON) bash t/run

test-plain:
	@$(MAKE) --no-print-directory check

test-asan:
	@$(MAKE) --no-print-directory check BUILD=build-asan SAN=1

test: deps
	@BUILD=build bash t/run-all

demo: deps all
	@bash conf/demo.sh

bench: deps all
	@bash bench/run

fuzz: deps
	@bash t/fuzz/run-libfuzzer $(FUZZ_SECONDS)

format:
	clang-format -i $(CORE_SRC) $(CORE_HDR) $(NGX_SRC) $(NGX_HDR)

clean:
	rm -rf build build-asan
