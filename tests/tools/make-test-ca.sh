#!/usr/bin/env bash
# make-test-ca.sh DIR - a throw-away test CA and leaf certificates for the
# TLS tests, made with the openssl CLI:
#   ca.pem / ca.key                     the test CA
#   site.pem + site.key                 SAN www.example.com, *.example.com
#   api.pem (key inside the same file)  SAN api.example.org
#   other.key                           a key that matches neither
#   backend.pem (key inside)            SAN 127.0.0.1 and b1.test, for TLS backends
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
[[ -s ca.pem && -s site.pem && -s api.pem && -s backend.pem ]] && exit 0
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
leaf() { # leaf NAME KEYFILE SAN
	openssl req -new -key "$2" -subj "/CN=$1" -out "$1.csr" 2>/dev/null
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
		-extfile "$1.ext" -out "$1.crt" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}
key ca.key
openssl req -x509 -new -key ca.key -subj "/CN=slb test CA" -days 30 \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	-out ca.pem 2>/dev/null
key site.key
leaf site site.key "DNS:www.example.com,DNS:*.example.com"
mv site.crt site.pem
key api.key
leaf api api.key "DNS:api.example.org"
cat api.crt api.key >api.pem
rm -f api.crt api.key
key backend.key
leaf backend backend.key "IP:127.0.0.1,DNS:b1.test"
cat backend.crt backend.key >backend.pem
rm -f backend.crt backend.key
key other.key
chmod 644 ./*.pem ./*.key
