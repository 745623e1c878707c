#!/usr/bin/env bash
# Runs the Apache::Test suite against real httpd + mod_ssl with the modules of a build dir.
# Usage: tests/apache/run.sh BUILD_DIR
# Apache::Test refuses to run as root (and may still exit 0), so the suite runs as the
# unprivileged user ekeytest in a private copy; success requires "Result: PASS" with tests.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
user=ekeytest
id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"

work=$(mktemp -d /tmp/ekey-apache.XXXXXX)
[ -n "${EKEY_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
cp -a "$here/." "$work/"
cp -a "$here/../../httpd-conf" "$work/httpd-conf"
rm -rf "$work/t/logs" "$work/t/conf/"*.conf "$work/t/keys"
mkdir -p "$work/t/keys" "$work/t/modules" "$work/t/logs"
cp "$build/.libs/mod_ekey.so" "$build/.libs/mod_ekey_issuer.so" "$work/t/modules/"

# Throwaway keys and certificates: an issuer key, a CA with a server certificate, client
# certificates (plain, SPIFFE SVID, and one from a foreign CA).
k="$work/t/keys"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$k/issuer.pem" 2>/dev/null
openssl pkey -in "$k/issuer.pem" -pubout -out "$k/issuer.pub.pem"
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
mkcert svid "/CN=svid" ca "subjectAltName=URI:spiffe://example.org/agent-123\nextendedKeyUsage=clientAuth"
mkcert foreign "/CN=agent-123" otherca "extendedKeyUsage=clientAuth"

htpasswd -cbB "$k/htpasswd" agent-123 s3cret-pass 2>/dev/null

cat > "$work/t/conf/ekey-modules.conf" <<CONF
LoadModule ekey_module $work/t/modules/mod_ekey.so
LoadModule ekey_issuer_module $work/t/modules/mod_ekey_issuer.so
CONF
chown -R "$user" "$work"
chmod 755 "$work"

cd "$work"
log="$work/suite.log"
set +e
runuser -u "$user" -- env HOME="$work" perl t/TEST -apxs /usr/bin/apxs -httpd /usr/sbin/apache2 \
  -httpd_conf "$work/httpd-base.conf" -port select -verbose 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ] || ! grep -q '^Result: PASS' "$log" || ! grep -Eq '^Files=[0-9]+, Tests=[1-9]' "$log"; then
  echo "apache suite: FAILED (exit $status)"; tail -50 "$work/t/logs/error_log" 2>/dev/null || true
  exit 1
fi
grep -E '^(Files=|Result:)' "$log"
