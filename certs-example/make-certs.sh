#!/usr/bin/env bash
#
# Makes the certificates a local gateway needs, self-signed, with openssl:
#
#   sp-signing.crt / sp-signing.key   SAML service-provider signing pair
#                                     (RSA 3072, 10 years; it goes into the
#                                     SP metadata the IdP imports)
#   tls-localhost.crt / .key          TLS server pair for localhost,
#                                     127.0.0.1 and ::1 (ECDSA P-256,
#                                     TLS_DAYS days, default 365)
#
# Usage: certs-example/make-certs.sh DIR [--force]
#
# Existing files are kept unless --force is given, so re-running it never
# silently rotates a key an IdP already trusts.  Private keys are written
# 0600.  For production, use a certificate from your PKI for TLS; a
# self-signed SAML signing pair is normal practice, but make your own and
# keep it out of version control.

set -euo pipefail

usage() {
    echo "usage: $0 DIR [--force]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
dir=$1
force=0
if [ $# -ge 2 ]; then
    [ "$2" = "--force" ] || usage
    force=1
fi

command -v openssl >/dev/null || { echo "$0: openssl not found" >&2; exit 1; }

mkdir -p "$dir"
umask 077

# make_pair NAME KEYALG-ARGS... -- REQ-ARGS...
make_pair() {
    local name=$1; shift
    local key=$dir/$name.key crt=$dir/$name.crt
    local keyargs=() reqargs=()

    while [ "$1" != "--" ]; do keyargs+=("$1"); shift; done
    shift
    reqargs=("$@")

    if [ -e "$key" ] || [ -e "$crt" ]; then
        if [ "$force" -eq 0 ]; then
            echo "kept     $crt (exists; --force to replace)"
            return
        fi
    fi

    openssl genpkey "${keyargs[@]}" -out "$key.tmp" 2>/dev/null
    openssl req -x509 -new -key "$key.tmp" -out "$crt.tmp" "${reqargs[@]}"
    chmod 600 "$key.tmp"
    chmod 644 "$crt.tmp"
    mv "$key.tmp" "$key"
    mv "$crt.tmp" "$crt"
    echo "wrote    $crt"
    echo "wrote    $key"
}

make_pair sp-signing \
    -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -- \
    -sha256 -days 3650 -subj "/CN=airflow-auth SAML SP signing" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -addext "keyUsage=critical,digitalSignature"

make_pair tls-localhost \
    -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -- \
    -sha256 -days "${TLS_DAYS:-365}" -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -addext "keyUsage=critical,digitalSignature" \
    -addext "extendedKeyUsage=serverAuth"

for c in "$dir"/sp-signing.crt "$dir"/tls-localhost.crt; do
    openssl x509 -in "$c" -noout -subject -enddate -fingerprint -sha256 \
        | sed "s|^|  $(basename "$c"): |"
done
