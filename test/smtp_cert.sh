#!/usr/bin/env bash
# Makes a self-signed TLS certificate for the loopback test servers:
#   bash test/smtp_cert.sh DIR [DAYS]
# writes DIR/cert.pem (CN=localhost, subjectAltName IP:127.0.0.1 and
# DNS:localhost, usable as its own CA: curl --cacert DIR/cert.pem) and
# DIR/key.pem (P-256 key, mode 600). Needs the openssl command.
set -euo pipefail

dir=${1:?usage: smtp_cert.sh DIR [DAYS]}
days=${2:-3650}
mkdir -p "$dir"
umask 077
openssl req -x509 -new -nodes -sha256 -days "$days" \
    -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$dir/key.pem" -out "$dir/cert.pem.tmp" \
    -subj "/CN=localhost" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,digitalSignature,keyCertSign" \
    -addext "extendedKeyUsage=serverAuth" 2>/dev/null
chmod 644 "$dir/cert.pem.tmp"
mv "$dir/cert.pem.tmp" "$dir/cert.pem"
