#!/usr/bin/env bash
# The demo: installs what it needs, builds, makes throwaway keys and certificates in ./demo,
# and runs httpd in the foreground with mod_ekey and the issuer on http://localhost:4000
# (and mTLS on https://localhost:4443). Ctrl-C stops it. Configuration: httpd-conf/demo.conf.
# Re-running reuses ./demo (delete it for fresh keys). EKEY_DEMO_HTTP_PORT and
# EKEY_DEMO_TLS_PORT move the two ports.
set -euo pipefail
hp=${EKEY_DEMO_HTTP_PORT:-4000}
tp=${EKEY_DEMO_TLS_PORT:-4443}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh
[ -x configure ] || ./autogen.sh >/dev/null
mkdir -p build/gcc
if [ ! -f build/gcc/Makefile ]; then
  (cd build/gcc && "$top/configure" CC=gcc >configure.out 2>&1) || { cat build/gcc/configure.out; exit 1; }
fi
make -C build/gcc -j"$(nproc)" >/dev/null

demo="$top/demo"
mkdir -p "$demo/htdocs" "$demo/modules"
cp build/gcc/.libs/mod_ekey.so build/gcc/.libs/mod_ekey_issuer.so "$demo/modules/"
cp build/gcc/src/cli/ekey "$demo/ekey" 2>/dev/null || true
if [ ! -f "$demo/issuer.pem" ]; then
  umask 077
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
  umask 022
  chmod 644 "$demo"/*.crt
fi

# httpd reads keys and opens logs as root; the backend CGI runs as www-data, which must be
# able to reach it (a clone under /root is not): then it runs from a private copy in /tmp.
extra=(-C "Define EKEY_HTTP_PORT $hp" -C "Define EKEY_TLS_PORT $tp")
if [ "$(id -u)" -ne 0 ]; then
  extra+=(-DEKEY_DEMO_NOUSER)
elif ! runuser -u www-data -- test -x "$top/httpd-conf/demo-backend.cgi" 2>/dev/null; then
  cgi=$(mktemp -d /tmp/ekey-demo-cgi.XXXXXX)
  cp "$top/httpd-conf/demo-backend.cgi" "$cgi/"
  chmod 755 "$cgi" "$cgi/demo-backend.cgi"
  extra+=(-C "Define EKEY_CGI $cgi")
fi
export EKEY_DEMO="$demo" EKEY_MODULES="$demo/modules" EKEY_CONF="$top/httpd-conf"
/usr/sbin/apache2 -t -f "$top/httpd-conf/demo.conf" "${extra[@]}"

C="--cacert $demo/ca.crt --cert $demo/client.crt --key $demo/client.key"
cat <<TXT

mod_ekey demo: http://localhost:$hp (mTLS: https://localhost:$tp). Try, in another shell:

  # 1. mint an E-Key with the prototype's request (DPoP-bound to the README's public key)
  curl -s -X POST http://localhost:$hp/token -H 'content-type: application/json' \\
    -d '{"sub":"agent-123","aud":"https://api.example.com","ttl":30,"bind":"DPoP",
         "cap":{"action":"POST:/payments","limit":1},
         "jwk":{"kty":"EC","crv":"P-256","x":"m3iO44EpoO0YX3XlKZtp1Y8hLe0KzlzSCuaCM6Kw_kA",
                "y":"rM2zumW497ix-_mcZq4Js1EQn__MaJ50KPZ2hhShSP0"}}'
  # the issuer's public keys, and a request without an E-Key (401, JSON error)
  curl -s http://localhost:$hp/.well-known/jwks.json
  curl -si -X POST http://localhost:$hp/payments

  # 2. the ekey client: a key pair, then a DPoP-bound call (token + proof made for you)
  $demo/ekey keygen
  $demo/ekey call -v -X POST http://localhost:$hp/payments -d '{"amount":1000}'
  $demo/ekey call --replay -X POST http://localhost:$hp/payments -d '{"amount":1000}'  # replay_detected
  curl -s http://localhost:$hp/.well-known/jwks.json > $demo/jwks.json
  $demo/ekey token --issuer http://localhost:$hp/token --action POST:/payments --limit 3 \\
    | $demo/ekey inspect --jwks $demo/jwks.json -

  # 3. an mTLS-bound E-Key over TLS with the demo client certificate (SPIFFE ID agent-123)
  T=\$(curl -s $C -X POST https://localhost:$tp/token -H 'content-type: application/json' \\
    -d '{"sub":"agent-123","aud":"https://api.example.com","bind":"mTLS","cap":{"action":"POST:/payments"}}' \\
    | sed 's/.*"token":"\\([^"]*\\)".*/\\1/')
  curl -s $C -X POST https://localhost:$tp/payments -H "Authorization: EKey \$T"   # 200
  curl -s $C -X POST https://localhost:$tp/payments -H "Authorization: EKey \$T"   # replay_detected
  $demo/ekey call --bind mTLS --cacert $demo/ca.crt --cert $demo/client.crt \\
    --cert-key $demo/client.key -X POST https://localhost:$tp/payments -d '{"amount":1}'

Logs: $demo/error.log, $demo/access.log, $demo/audit.log. Ctrl-C stops httpd.
TXT
exec /usr/sbin/apache2 -f "$top/httpd-conf/demo.conf" -DFOREGROUND "${extra[@]}"
