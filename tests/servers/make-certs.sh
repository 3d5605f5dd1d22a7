#!/bin/sh
# make-certs.sh DIR [DAYS]
#
# Creates fresh test certificates in DIR with the openssl command line tool
# (no network, no system trust store touched). Run it once per test run, so
# the certificates never expire in CI; DAYS defaults to 30.
#
#   ca.pem ca.key                 test CA ("asmtp test CA")
#   server.pem server.key         CN=localhost, subjectAltName DNS:localhost,
#                                 IP:127.0.0.1, IP:::1, signed by the CA,
#                                 extendedKeyUsage serverAuth
#   server-chain.pem              server.pem followed by ca.pem
#   selfsigned.pem selfsigned.key self-signed, same names as server.pem but
#                                 not signed by the CA (verification must fail
#                                 for want of trust, not for the name)
#   wronghost.pem wronghost.key   signed by the CA, but only for
#                                 DNS:wrong.example (name check must fail)
#   expired.pem expired.key       signed by the CA, for localhost, valid only
#                                 in 2020 (expiry check must fail)
#   client.pem client.key         client certificate signed by the CA
#                                 (CN=asmtp test client, clientAuth)
#
# Keys are ECDSA P-256 without passphrase. Exit status is non-zero if any
# step fails.
set -eu

dir=${1:?usage: make-certs.sh DIR [DAYS]}
days=${2:-30}
mkdir -p "$dir"
cd "$dir"
umask 077

# openssl must not read the machine's openssl.cnf defaults for req/ca.
cat >openssl-test.cnf <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ self_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
[ wrong_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ client_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ca ]
default_ca = test_ca
[ test_ca ]
database = ca-index.txt
new_certs_dir = ca-new
serial = ca.srl
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
EOF
OPENSSL_CONF=$PWD/openssl-test.cnf
export OPENSSL_CONF

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
serial() { echo "0x$(openssl rand -hex 12)"; }

# sign NAME CN EXTSECTION: NAME.key + NAME.pem signed by the CA
sign() {
    newkey "$1.key"
    openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key \
        -set_serial "$(serial)" -days "$days" -sha256 \
        -extfile openssl-test.cnf -extensions "$3" -out "$1.pem" 2>/dev/null
    rm -f "$1.csr"
}

newkey ca.key
openssl req -x509 -new -key ca.key -subj "/CN=asmtp test CA" -days "$days" \
    -sha256 -set_serial "$(serial)" -extensions ca_ext -out ca.pem

sign server localhost server_ext
sign wronghost wrong.example wrong_ext
sign client "asmtp test client" client_ext
cat server.pem ca.pem >server-chain.pem

newkey selfsigned.key
openssl req -x509 -new -key selfsigned.key -subj "/CN=localhost" \
    -days "$days" -sha256 -set_serial "$(serial)" -extensions self_ext \
    -out selfsigned.pem

# An expired certificate needs explicit dates: only 'openssl ca' takes them.
newkey expired.key
openssl req -new -key expired.key -subj "/CN=localhost" -out expired.csr
: >ca-index.txt
mkdir -p ca-new
openssl rand -hex 12 >ca.srl
openssl ca -batch -notext -config openssl-test.cnf -cert ca.pem \
    -keyfile ca.key -in expired.csr -out expired.pem \
    -startdate 20200101000000Z -enddate 20200201000000Z \
    -extfile openssl-test.cnf -extensions server_ext 2>/dev/null
rm -rf expired.csr ca-index.txt* ca.srl* ca-new

chmod 644 ./*.pem
openssl verify -CAfile ca.pem server.pem client.pem wronghost.pem >/dev/null
rm -f openssl-test.cnf
