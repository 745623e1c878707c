#!/usr/bin/env bash
# Interop with implementations we did not write: panva's jose and dpop (npm) as client and
# issuer against the real httpd with mod_ekey, and as verifier of mod_ekey_issuer's tokens.
# Usage: tests/interop/run.sh BUILD_DIR      (as root: httpd's children run as user ekeytest)
# Needs node >= 18.15 and npm (a missing one is a failure). Installs the pinned packages with
# npm ci into a private work directory, makes keys and certificates with openssl, starts its
# own httpd on free loopback ports, runs node's test runner and stops httpd by pid.
# EKEY_KEEP=1 keeps the work directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
fail() { echo "interop: $*" >&2; exit 1; }

command -v node >/dev/null || fail "node is missing (Debian: apt-get install nodejs npm)"
command -v npm >/dev/null || fail "npm is missing (Debian: apt-get install npm)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
node -e 'const [a, b] = process.versions.node.split(".").map(Number);
  process.exit(a > 18 || (a == 18 && b >= 15) ? 0 : 1)' || fail "node $(node --version) is too old (need >= 18.15)"
for so in mod_ekey.so mod_ekey_issuer.so; do
  [ -f "$build/.libs/$so" ] || fail "$build/.libs/$so missing (build first)"
done
[ -x /usr/sbin/apache2 ] || fail "/usr/sbin/apache2 missing"

work=$(mktemp -d /tmp/ekey-interop.XXXXXX)
httpd_pid=
cleanup() {
  local pid
  pid=$(cat "$work/logs/httpd.pid" 2>/dev/null || true)
  [ -n "$pid" ] || pid=$httpd_pid
  if [[ "$pid" =~ ^[0-9]+$ ]] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = apache2 ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do [ -d /proc/"$pid" ] || break; sleep 0.1; done
    [ ! -d /proc/"$pid" ] || kill -KILL "$pid" 2>/dev/null || true
  fi
  [ -n "${EKEY_KEEP:-}" ] && echo "interop: work directory kept in $work" || rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/keys" "$work/logs" "$work/run" "$work/node"

# The npm packages, exactly as locked, in the private copy of the test.
cp "$here/package.json" "$here/package-lock.json" "$here/mkjwks.mjs" "$work/node/"
cp -r "$here/test" "$work/node/test"
(cd "$work/node" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"

# Node 18 has WebCrypto's globals (crypto, CryptoKey: used by jose and dpop) behind a flag.
if [ "$node_major" -lt 19 ]; then
  export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--experimental-global-webcrypto"
fi

# Keys: the test's own issuer (jose signs with it), mod_ekey_issuer's key, a CA with the
# server certificate and two client certificates with the same subject.
k="$work/keys"
for n in node-issuer issuer; do
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$k/$n.pem" 2>/dev/null
  openssl pkey -in "$k/$n.pem" -pubout -out "$k/$n.pub.pem"
done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$k/ca.key" \
  -subj "/CN=mod_ekey interop CA" -days 2 -out "$k/ca.crt" 2>/dev/null
mkcert() {  # name subject extension-lines
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$k/$1.key" \
    -subj "$2" -out "$k/$1.csr" 2>/dev/null
  printf '%b\n' "$3" > "$k/$1.ext"
  openssl x509 -req -in "$k/$1.csr" -CA "$k/ca.crt" -CAkey "$k/ca.key" -CAcreateserial \
    -days 2 -extfile "$k/$1.ext" -out "$k/$1.crt" 2>/dev/null
}
mkcert server "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth"
mkcert client "/CN=agent-123" "extendedKeyUsage=clientAuth"
mkcert client2 "/CN=agent-123" "extendedKeyUsage=clientAuth"
(cd "$work/node" && node mkjwks.mjs "$k/node-issuer.pub.pem") > "$k/node-issuer.jwks.json"

# Two free loopback ports (held together, so they differ).
read -r http_port tls_port < <(node -e '
  const net = require("net"); const a = net.createServer(), b = net.createServer();
  a.listen(0, "127.0.0.1", () => b.listen(0, "127.0.0.1", () => {
    console.log(a.address().port, b.address().port); a.close(); b.close(); }));')

user_lines=
if [ "$(id -u)" -eq 0 ]; then
  id ekeytest >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin ekeytest
  user_lines="User ekeytest
Group $(id -gn ekeytest)"
  chown -R ekeytest "$work/keys" "$work/logs" "$work/run"
fi
chmod 755 "$work"
cp "$here/backend.cgi" "$work/backend.cgi"
chmod 755 "$work/backend.cgi"
while IFS= read -r line; do
  line=${line//@WORK@/$work}; line=${line//@BUILD@/$build}
  line=${line//@HTTP_PORT@/$http_port}; line=${line//@TLS_PORT@/$tls_port}
  [ "$line" = @USER_LINES@ ] && line=$user_lines
  printf '%s\n' "$line"
done < "$here/httpd.conf.in" > "$work/httpd.conf"

/usr/sbin/apache2 -f "$work/httpd.conf" -k start \
  || { cat "$work/logs/error_log" 2>/dev/null; fail "httpd did not start"; }
for _ in $(seq 100); do
  httpd_pid=$(cat "$work/logs/httpd.pid" 2>/dev/null || true)
  [ -n "$httpd_pid" ] && (exec 3<>/dev/tcp/127.0.0.1/"$tls_port") 2>/dev/null \
    && (exec 3<>/dev/tcp/127.0.0.1/"$http_port") 2>/dev/null && break
  sleep 0.1
done
[ -n "$httpd_pid" ] || { cat "$work/logs/error_log"; fail "httpd wrote no pid file"; }

# The tests, with a spec report on the terminal and a TAP copy whose totals are checked: a
# run only passes with tests, all passed, none skipped, todo or cancelled.
set +e
(cd "$work/node" && INTEROP_KEYS="$k" INTEROP_HITS="$work/logs/hits" \
  INTEROP_HTTP_PORT="$http_port" INTEROP_TLS_PORT="$tls_port" \
  node --test --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$work/tap.txt" \
    test/client.test.mjs test/issuer.test.mjs)
status=$?
set -e
total() { sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$work/tap.txt" | tail -1; }
tests=$(total tests); pass=$(total pass)
if [ "$status" -ne 0 ] || [ -z "$tests" ] || [ "${tests:-0}" -eq 0 ] || [ "$pass" != "$tests" ] \
   || [ "$(total fail)" != 0 ] || [ "$(total skipped)" != 0 ] || [ "$(total todo)" != 0 ] \
   || [ "$(total cancelled)" != 0 ]; then
  echo "interop (node $(node --version), jose + dpop): FAILED (exit $status, $pass of ${tests:-0} passed)"
  tail -30 "$work/logs/error_log" 2>/dev/null || true
  exit 1
fi
echo "interop (node $(node --version), jose + dpop): $pass of $tests tests passed"
