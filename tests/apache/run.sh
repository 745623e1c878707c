#!/usr/bin/env bash
# Runs the Apache::Test suite against real httpd + mod_ssl with the modules of a build dir.
# Usage: tests/apache/run.sh BUILD_DIR [event|prefork [t/FILE.t ...]]   (as root, or as an
# ordinary user: then it runs as that user directly)
# Apache::Test refuses to run as root (and may still exit 0), so as root the suite runs as the
# unprivileged user ekeytest in a private copy; success requires "Result: PASS" with tests.
# It starts a redis-server on a free loopback port for the Redis store tests and stops it
# (by pid) on exit. EKEY_KEEP=1 keeps the work directory; on failure the logs are copied to
# build/apache-test-logs/MPM/.
#
# Sanitized modules (configure CC=clang --enable-sanitizers) are detected from their
# undefined __asan symbols: the run then preloads clang's ASan runtime, checks leaks in
# httpd, and fails on any AddressSanitizer or UBSan report or leak of ours
# (tests/apache/sanitize.inc.sh, docs/hardening.md). EKEY_VALGRIND=1 runs the suite's httpd
# as one process under valgrind instead (tests/apache/valgrind.sh, valgrind.inc.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR [event|prefork]}" && pwd)
mpm=${2:-event}
shift $(( $# < 2 ? $# : 2 ))
only=("$@")     # test files to run (default: all)
case "$mpm" in
  event) mpm_lines="LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so" ;;
  prefork) mpm_lines="LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule cgi_module /usr/lib/apache2/modules/mod_cgi.so" ;;
  *) echo "run.sh: MPM must be event or prefork" >&2; exit 2 ;;
esac
for so in mod_ekey.so mod_ekey_issuer.so; do
  [ -f "$build/.libs/$so" ] || { echo "run.sh: $build/.libs/$so missing (build first)" >&2; exit 1; }
done
sanitize=
nm -D "$build/.libs/mod_ekey.so" | grep ' U __asan_init' >/dev/null && sanitize=1
valgrind=${EKEY_VALGRIND:-}
[ -z "$sanitize" ] || [ -z "$valgrind" ] \
  || { echo "run.sh: valgrind needs a build without sanitizers" >&2; exit 2; }

run_as=()
if [ "$(id -u)" -eq 0 ]; then
  user=ekeytest
  id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
  run_as=(runuser -u "$user" --)
fi

work=$(mktemp -d /tmp/ekey-apache.XXXXXX)
redis_pid=
cleanup() {
  # an httpd the harness left behind (it died early), by its pid file
  local pid
  for f in "$work/t/logs/httpd.pid" "$work"/t/logs/*/httpd.pid "$work"/t/logs/*/*/httpd.pid; do
    pid=$(cat "$f" 2>/dev/null || true)
    [[ "$pid" =~ ^[0-9]+$ ]] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = apache2 ] \
      && kill "$pid" 2>/dev/null || true
  done
  [ -z "$redis_pid" ] || kill "$redis_pid" 2>/dev/null || true
  [ -z "$redis_pid" ] || wait "$redis_pid" 2>/dev/null || true
  [ -n "${EKEY_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
cp -a "$here/." "$work/"
cp -a "$top/httpd-conf" "$work/httpd-conf"
rm -rf "$work/t/logs" "$work/t/conf/"*.conf "$work/t/keys" "$work/t/TEST" "$work/t/SMOKE"
mkdir -p "$work/t/keys" "$work/t/modules" "$work/t/logs" "$work/t/htdocs" "$work/t/cache"
cp "$build/.libs/mod_ekey.so" "$build/.libs/mod_ekey_issuer.so" "$work/t/modules/"
# the CLI too: the build directory may not be readable by the unprivileged user
[ -x "$build/src/cli/ekey" ] || { echo "run.sh: $build/src/cli/ekey missing (build first)" >&2; exit 1; }
cp "$build/src/cli/ekey" "$work/t/ekey"
{ cat "$here/httpd-base.conf"; echo "$mpm_lines"; } > "$work/httpd-base.conf"

# Throwaway keys and certificates: issuer keys (the signer and a second one for rotation), a
# CA with a server certificate, client certificates (plain, a second one with the same
# subject, a SPIFFE SVID, one from a foreign CA).
k="$work/t/keys"
for n in issuer issuer2; do
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$k/$n.pem" 2>/dev/null
  openssl pkey -in "$k/$n.pem" -pubout -out "$k/$n.pub.pem"
done
mkcert() {  # name subject ca extfile-lines
  local n=$1 subj=$2 ca=$3 ext=$4
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$k/$n.key" \
    -subj "$subj" -out "$k/$n.csr" 2>/dev/null
  printf '%b\n' "$ext" > "$k/$n.ext"
  openssl x509 -req -in "$k/$n.csr" -CA "$k/$ca.crt" -CAkey "$k/$ca.key" -CAcreateserial \
    -days 2 -extfile "$k/$n.ext" -out "$k/$n.crt" 2>/dev/null
}
for ca in ca otherca; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$k/$ca.key" \
    -subj "/CN=mod_ekey test $ca" -days 2 -out "$k/$ca.crt" 2>/dev/null
done
mkcert server "/CN=localhost" ca "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth"
mkcert client "/CN=agent-123" ca "extendedKeyUsage=clientAuth"
mkcert client2 "/CN=agent-123" ca "extendedKeyUsage=clientAuth"
mkcert svid "/CN=svid" ca "subjectAltName=URI:spiffe://example.org/agent-123\nextendedKeyUsage=clientAuth"
mkcert foreign "/CN=agent-123" otherca "extendedKeyUsage=clientAuth"
# an SVID from a CA the server does not trust, naming someone it likes (optional_no_ca)
mkcert svidforeign "/CN=svidforeign" otherca "subjectAltName=URI:spiffe://example.org/payments-admin\nextendedKeyUsage=clientAuth"
# an SVID whose URI SAN hides a NUL: "spiffe://example.org/agent-123\0.evil.example"
nul_uri=$(printf 'spiffe://example.org/agent-123\0.evil.example' | od -An -tx1 | tr -d ' \n')
nul_len=$(( ${#nul_uri} / 2 ))
mkcert svidnul "/CN=svidnul" ca "subjectAltName=DER:30$(printf '%02x' $((nul_len + 2)))86$(printf '%02x' "$nul_len")$nul_uri\nextendedKeyUsage=clientAuth"
htpasswd -cbB "$k/htpasswd" agent-123 s3cret-pass 2>/dev/null

# Two free loopback ports: one for our redis-server, one where nothing listens.
free_port() {
  perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(Listen => 1,
    LocalAddr => "127.0.0.1", LocalPort => 0, ReuseAddr => 1) or die "$!"; print $s->sockport'
}
redis_port=$(free_port)
dead_port=$(free_port)
while [ "$dead_port" = "$redis_port" ]; do dead_port=$(free_port); done
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
  --dir "$work" --maxmemory-policy noeviction --daemonize no >"$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 50); do
  redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null || { cat "$work/redis.log"; exit 1; }

cat > "$work/t/conf/ekey-env.conf" <<CONF
LoadModule ekey_module $work/t/modules/mod_ekey.so
LoadModule ekey_issuer_module $work/t/modules/mod_ekey_issuer.so
Define EKEY_REDIS_PORT $redis_port
Define EKEY_DEAD_PORT $dead_port
CONF

# The httpd Apache::Test starts, and the environment of everything the suite runs.
httpd=/usr/sbin/apache2
envs=(env HOME="$work" EKEY_REDIS_PORT="$redis_port" EKEY_DEAD_PORT="$dead_port" EKEY_MPM="$mpm"
      EKEY_CLI="$work/t/ekey")
topts=()
# Apache::Test's stop returns once the port is closed; sanitizer and valgrind reports are
# complete only when this run's httpd processes (their command line names $work) are gone.
wait_httpd_gone() {
  local i p left
  for i in $(seq 120); do
    left=
    for p in /proc/[0-9]*; do
      { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null | grep -F -e "$work/t" -e "$work/httpd" \
        | grep -q -E 'apache2|valgrind' && left=1 && break
    done
    [ -z "$left" ] && return 0
    sleep 0.5
  done
  echo "run.sh: httpd of this run still running after 60 s" >&2
}
if [ -n "$sanitize" ]; then
  # shellcheck source=tests/apache/sanitize.inc.sh
  . "$here/sanitize.inc.sh"
  sanitize_setup
elif [ -n "$valgrind" ]; then
  # shellcheck source=tests/apache/valgrind.inc.sh
  . "$here/valgrind.inc.sh"
  valgrind_setup
fi
[ "${#run_as[@]}" -eq 0 ] || chown -R "$user" "$work"
chmod 755 "$work"

cd "$work"
log="$work/suite.log"
"${run_as[@]}" "${envs[@]}" perl -MApache::TestMM -e 'Apache::TestMM::generate_script("t/TEST")' \
  >/dev/null
set +e
"${run_as[@]}" "${envs[@]}" perl t/TEST -apxs /usr/bin/apxs -httpd "$httpd" \
  -httpd_conf "$work/httpd-base.conf" -port select "${topts[@]}" -verbose "${only[@]}" 2>&1 \
  | tee "$log"
status=${PIPESTATUS[0]}
set -e
checked=0
if [ -n "$sanitize" ]; then sanitize_check || checked=1
elif [ -n "$valgrind" ]; then valgrind_check || checked=1
fi
if [ "$status" -ne 0 ] || [ "$checked" -ne 0 ] || ! grep -q '^Result: PASS' "$log" \
   || ! grep -Eq '^Files=[0-9]+, Tests=[1-9]' "$log"; then
  echo "apache suite ($mpm MPM): FAILED (exit $status)"
  grep -E '^(ok|not ok|# (testing|expected|received)|t/.*\.t)' "$log" | grep -B3 '^not ok' \
    | grep -v '^ok' | head -120 || true
  tail -40 "$work/t/logs/error_log" 2>/dev/null || true
  dest="$top/build/apache-test-logs/$mpm${sanitize:+-asan}${valgrind:+-valgrind}"
  rm -rf "$dest"; mkdir -p "$dest"; cp -a "$work/t/logs/." "$dest/" 2>/dev/null || true
  cp "$log" "$dest/suite.log"; echo "logs kept in $dest"
  exit 1
fi
echo "apache suite ($mpm MPM${sanitize:+, ASan+UBSan}${valgrind:+, valgrind}): $(grep -E '^Files=' "$log" | tail -1)"
grep -E '^Result:' "$log" | tail -1
