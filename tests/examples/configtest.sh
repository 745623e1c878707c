#!/usr/bin/env bash
# Loads every example configuration of httpd-conf/ (and the Debian package's ekey.conf and
# ekey_issuer.conf) with `apache2 -t`, using the modules of a build dir and throwaway keys,
# certificates and a password file. The examples read their paths from Defines, which are
# set here with -C; anything but "Syntax OK" (an error or a warning) fails. One negative run
# (keys missing) must fail, so the check itself is known to bite.
# Usage: tests/examples/configtest.sh BUILD_DIR
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: configtest.sh BUILD_DIR}" && pwd) || exit 1
mods=/usr/lib/apache2/modules
for so in mod_ekey.so mod_ekey_issuer.so; do
  [ -f "$build/.libs/$so" ] || { echo "configtest: $build/.libs/$so missing (build first)"; exit 1; }
done
[ -x /usr/sbin/apache2 ] || { echo "configtest: /usr/sbin/apache2 missing (apt-get install apache2)"; exit 1; }

d=$(mktemp -d /tmp/ekey-configtest.XXXXXX)
trap 'rm -rf "$d"' EXIT
mkdir -p "$d/etc" "$d/tls" "$d/logs" "$d/run" "$d/www" "$d/empty"
q() { "$@" >/dev/null 2>&1 || { echo "configtest: failed: $*"; exit 1; }; }
q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/etc/issuer.pem"
q openssl pkey -in "$d/etc/issuer.pem" -pubout -out "$d/etc/issuer.pub.pem"
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/tls/ca.key" \
  -subj "/CN=configtest CA" -days 1 -out "$d/tls/ca.crt"
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/tls/server.key" \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" -days 1 -out "$d/tls/server.crt"
cp "$d/tls/ca.crt" "$d/tls/spiffe-bundle.pem"
cp "$d/tls/ca.crt" "$d/tls/clients-ca.crt"
q htpasswd -cbB "$d/etc/callers.htpasswd" agent-123 configtest-pass

cat > "$d/base.conf" <<CONF
ServerRoot $d
DefaultRuntimeDir $d/run
PidFile $d/run/httpd.pid
ErrorLog $d/logs/error.log
ServerName localhost
Listen 127.0.0.1:18080
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authn_core_module $mods/mod_authn_core.so
LoadModule authn_file_module $mods/mod_authn_file.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authz_host_module $mods/mod_authz_host.so
LoadModule authz_user_module $mods/mod_authz_user.so
LoadModule auth_basic_module $mods/mod_auth_basic.so
LoadModule headers_module $mods/mod_headers.so
LoadModule alias_module $mods/mod_alias.so
LoadModule proxy_module $mods/mod_proxy.so
LoadModule proxy_http_module $mods/mod_proxy_http.so
LoadModule remoteip_module $mods/mod_remoteip.so
LoadModule slotmem_shm_module $mods/mod_slotmem_shm.so
LoadModule socache_shmcb_module $mods/mod_socache_shmcb.so
LoadModule ssl_module $mods/mod_ssl.so
LoadModule ekey_module $build/.libs/mod_ekey.so
LoadModule ekey_issuer_module $build/.libs/mod_ekey_issuer.so
CONF

defs=(-C "Define EKEY_ETC $d/etc" -C "Define EKEY_TLS $d/tls" -C "Define EKEY_QS_ROOT $d/www"
      -C "Define EKEY_QS_PORT 18081")
pass=0 fail=0
check() {  # name file [expect-fail] [extra -C args...]
  local name=$1 file=$2 want=${3:-ok} out rc
  shift 3 2>/dev/null || shift $#
  { cat "$d/base.conf"; echo "Include $file"; } > "$d/$name.conf"
  out=$(APACHE_LOG_DIR="$d/logs" /usr/sbin/apache2 -t -f "$d/$name.conf" "${defs[@]}" "$@" 2>&1)
  rc=$?
  if [ "$want" = ok ] && [ $rc -eq 0 ] && [ "$out" = "Syntax OK" ]; then
    echo "ok: $name"; pass=$((pass + 1))
  elif [ "$want" = fail ] && [ $rc -ne 0 ]; then
    echo "ok: $name (refused as expected)"; pass=$((pass + 1))
  else
    echo "FAIL: $name (exit $rc, expected $want):"; echo "$out" | sed 's/^/    /'
    fail=$((fail + 1))
  fi
}
n=0
for f in "$top"/httpd-conf/*.conf; do
  case $(basename "$f") in demo.conf|demo-api.conf) continue ;; esac  # t/demo.t runs those
  check "$(basename "$f" .conf)" "$f" ok
  n=$((n + 1))
done
[ "$n" -ge 7 ] || { echo "FAIL: only $n example configurations found"; fail=$((fail + 1)); }
for f in "$top"/debian/ekey.conf "$top"/debian/ekey_issuer.conf; do
  if [ -f "$f" ]; then check "debian-$(basename "$f" .conf)" "$f" ok
  else echo "FAIL: $f missing"; fail=$((fail + 1)); fi
done
# The check bites: without the issuer key the resource example must not load.
check missing-key "$top/httpd-conf/resource-dpop.conf" fail -C "Define EKEY_ETC $d/empty"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
