#!/usr/bin/python3
"""Summarises wrk --latency outputs for bench/run.

Usage: wrk_summary.py LABEL=FILE [LABEL=FILE ...]

A label may appear several times (one file per round).  For each label it
prints requests/s (mean over rounds, and each round), latency p50 and p99
(mean over rounds), responses that were not 2xx/3xx, and socket errors;
then the ratios of "auth" to "plain" when both are present.  Exits 1 if a
file cannot be parsed.
"""

import re
import sys
from collections import OrderedDict

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError("bad latency %r" % text)
    return float(m.group(1)) * UNITS[m.group(2)]


def parse(path):
    with open(path) as f:
        text = f.read()
    out = {"non2xx": 0, "errors": 0}
    m = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    if not m:
        raise ValueError("%s: no Requests/sec line" % path)
    out["rps"] = float(m.group(1))
    for pct in ("50", "99"):
        m = re.search(r"^\s+%s%%\s+([0-9.]+[a-z]+)" % pct, text, re.M)
        if not m:
            raise ValueError("%s: no %s%% latency (was --latency given?)"
                             % (path, pct))
        out["p" + pct] = to_ms(m.group(1))
    m = re.search(r"^\s+(\d+) requests in", text, re.M)
    out["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if m:
        out["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", text)
    if m:
        out["errors"] = sum(int(x) for x in m.groups())
    return out


def fmt_ms(v):
    return "%.3f ms" % v


def main(argv):
    runs = OrderedDict()
    try:
        for arg in argv:
            label, _, path = arg.partition("=")
            runs.setdefault(label, []).append(parse(path))
    except (OSError, ValueError) as e:
        sys.stderr.write("wrk_summary: %s\n" % e)
        return 1

    agg = {}
    print("%-10s %12s %11s %11s %9s %7s   %s"
          % ("path", "req/s", "p50", "p99", "non-2xx", "errors",
             "req/s per round"))
    for label, rs in runs.items():
        n = len(rs)
        a = {
            "rps": sum(r["rps"] for r in rs) / n,
            "p50": sum(r["p50"] for r in rs) / n,
            "p99": sum(r["p99"] for r in rs) / n,
            "non2xx": sum(r["non2xx"] for r in rs),
            "errors": sum(r["errors"] for r in rs),
            "requests": sum(r["requests"] for r in rs),
        }
        agg[label] = a
        print("%-10s %12.1f %11s %11s %9d %7d   %s"
              % (label, a["rps"], fmt_ms(a["p50"]), fmt_ms(a["p99"]),
                 a["non2xx"], a["errors"],
                 " ".join("%.0f" % r["rps"] for r in rs)))

    if "plain" in agg and "auth" in agg:
        p, q = agg["plain"], agg["auth"]
        print()
        print("auth/plain: req/s x%.3f, p50 x%.2f (%+.3f ms), "
              "p99 x%.2f (%+.3f ms)"
              % (q["rps"] / p["rps"], q["p50"] / p["p50"],
                 q["p50"] - p["p50"], q["p99"] / p["p99"],
                 q["p99"] - p["p99"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
