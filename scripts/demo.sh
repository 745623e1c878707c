#!/usr/bin/env bash
# The demo: installs what it needs, builds, makes throwaway keys and certificates in ./demo,
# and runs httpd in the foreground with mod_ekey and the issuer on http://localhost:4000
# (and mTLS on https://localhost:4443). Ctrl-C stops it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh
./autogen.sh >/dev/null
mkdir -p build/gcc
if [ ! -f build/gcc/Makefile ]; then
  (cd build/gcc && "$top/configure" CC=gcc >configure.out 2>&1) || { cat build/gcc/configure.out; exit 1; }
fi
make -C build/gcc -j"$(nproc)" >/dev/null

demo="$top/demo"
mkdir -p "$demo/htdocs" "$demo/modules" "$demo/client"
cp build/gcc/.libs/mod_ekey.so build/gcc/.libs/mod_ekey_issuer.so "$demo/modules/"
if [ ! -f "$demo/issuer.pem" ]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$demo/issuer.pem" 2>/dev/null
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$demo/ca.key" \
    -subj "/CN=mod_ekey demo CA" -days 30 -out "$demo/ca.crt" 2>/dev/null
  for n in server client; do
    cn=localhost; ext="subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth"
    [ "$n" = client ] && { cn=agent-123; ext="subjectAltName=URI:spiffe://example.org/agent-123\nextendedKeyUsage=clientAuth"; }
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$demo/$n.key" \
      -subj "/CN=$cn" -out "$demo/$n.csr" 2>/dev/null
    printf '%b\n' "$ext" > "$demo/$n.ext"
    openssl x509 -req -in "$demo/$n.csr" -CA "$demo/ca.crt" -CAkey "$demo/ca.key" -CAcreateserial \
      -days 30 -extfile "$demo/$n.ext" -out "$demo/$n.crt" 2>/dev/null
  done
  chmod 600 "$demo"/*.key "$demo/issuer.pem"
fi
chmod 755 "$demo" "$top" "$top/httpd-conf"

export EKEY_DEMO="$demo" EKEY_MODULES="$demo/modules" EKEY_CONF="$top/httpd-conf"
extra=()
[ "$(id -u)" -eq 0 ] || extra=(-DEKEY_DEMO_NOUSER)
/usr/sbin/apache2 -t -f "$top/httpd-conf/demo.conf" "${extra[@]}"

cat <<TXT

mod_ekey demo: http://localhost:4000 (mTLS: https://localhost:4443). Try, in another shell:

  # mint an E-Key with the prototype's request (DPoP-bound to the given public key)
  curl -s -X POST http://localhost:4000/token -H 'content-type: application/json' \\
    -d '{"sub":"agent-123","aud":"https://api.example.com","ttl":30,"bind":"DPoP",
         "cap":{"action":"POST:/payments","limit":1},
         "jwk":{"kty":"EC","crv":"P-256","x":"m3iO44EpoO0YX3XlKZtp1Y8hLe0KzlzSCuaCM6Kw_kA",
                "y":"rM2zumW497ix-_mcZq4Js1EQn__MaJ50KPZ2hhShSP0"}}'
  # the issuer's public keys
  curl -s http://localhost:4000/.well-known/jwks.json
  # no E-Key: 401 with a JSON error
  curl -si -X POST http://localhost:4000/payments
  # an mTLS-bound E-Key: mint and spend it over TLS with the demo client certificate
  C="--cacert $demo/ca.crt --cert $demo/client.crt --key $demo/client.key"
  T=\$(curl -s \$C -X POST https://localhost:4443/token -H 'content-type: application/json' \\
    -d '{"sub":"agent-123","aud":"https://api.example.com","bind":"mTLS","cap":{"action":"POST:/payments"}}' \\
    | sed 's/.*"token":"\\([^"]*\\)".*/\\1/')
  curl -s \$C -X POST https://localhost:4443/payments -H "Authorization: EKey \$T"   # 200
  curl -s \$C -X POST https://localhost:4443/payments -H "Authorization: EKey \$T"   # replay_detected

Logs: $demo/error.log, $demo/access.log, $demo/audit.log. Ctrl-C stops httpd.
TXT
exec /usr/sbin/apache2 -f "$top/httpd-conf/demo.conf" -DFOREGROUND "${extra[@]}"
