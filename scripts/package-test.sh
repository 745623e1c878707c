#!/usr/bin/env bash
# The Debian package, tried as a new user would (as root, on Debian 12):
#   1. builds libapache2-mod-ekey with dpkg-buildpackage in a copy of the tree (the checkout
#      stays clean);
#   2. installs it with apt, checks its files, `a2enmod ekey ekey_issuer`, drops the documented
#      example site (httpd-conf/quickstart.conf, from the package's examples) with its paths
#      pointed at throwaway keys, and runs `apachectl configtest` on /etc/apache2;
#   3. serves it with Debian's apache2 as a second instance (/etc/apache2-ekeypkg, Debian's
#      multi-instance layout) listening on a free 127.0.0.1 port only, so the machine's own
#      apache2 and other tests are untouched; the installed `ekey` CLI mints (HTTP Basic and a
#      DPoP proof), gets 200, then a replay refusal;
#   4. stops that apache2, undoes every configuration change, purges the package and any
#      package apt pulled in with it.
# Any failed step fails the script. EKEY_PKG_KEEP=1 keeps the work directory.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
pkg=libapache2-mod-ekey
inst=/etc/apache2-ekeypkg
say() { printf '== %s\n' "$*"; }
die() { printf 'package-test: FAILED: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs and purges a package)"
for t in dpkg-buildpackage dh dh_apache2 apt-get a2enmod apache2ctl /usr/sbin/apache2 openssl htpasswd curl; do
  command -v "$t" >/dev/null || die "$t missing (bash scripts/deps.sh installs the build tools)"
done
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
  die "$pkg is already installed; this test installs and purges it (remove it first)"
fi
[ ! -e "$inst" ] || die "$inst exists (a previous run left it?); remove it first"

work=$(mktemp -d /tmp/ekey-pkg.XXXXXX)
chmod 755 "$work"
pkgs_before=$(dpkg-query -W -f='${Package}\n' | sort)
mods_before=$(ls /etc/apache2/mods-enabled | sort)
sites_before=$(ls /etc/apache2/sites-enabled | sort)
state_before=$(find /var/lib/apache2 | sort)      # a2enmod/a2ensite keep markers here
site_added=
pid=
cleanup() {
  local rc=$? new
  set +e
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"; for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  # configuration changes, undone by name: only what this run added
  [ -z "$site_added" ] || { a2dissite -q quickstart >/dev/null 2>&1; rm -f /etc/apache2/sites-available/quickstart.conf; }
  for m in $(comm -13 <(echo "$mods_before") <(ls /etc/apache2/mods-enabled | sort)); do
    rm -f "/etc/apache2/mods-enabled/$m"
  done
  rm -rf "$inst" /var/log/apache2-ekeypkg /var/run/apache2-ekeypkg /var/lock/apache2-ekeypkg
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q installed; then
    apt-get purge -y -q "$pkg" >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; rc=1; }
  fi
  new=$(comm -13 <(echo "$pkgs_before") <(dpkg-query -W -f='${Package}\n' | sort))
  [ -z "$new" ] || apt-get purge -y -q $new >>"$work/purge.log" 2>&1 || rc=1
  # markers of a2enmod/a2ensite and of the package's maintainer scripts
  comm -13 <(echo "$state_before") <(find /var/lib/apache2 | sort) | sort -r | while read -r f; do
    if [ -d "$f" ]; then rmdir "$f"; else rm -f "$f"; fi
  done
  [ "$(ls /etc/apache2/mods-enabled | sort)" = "$mods_before" ] || { echo "package-test: mods-enabled not restored"; rc=1; }
  [ "$(ls /etc/apache2/sites-enabled | sort)" = "$sites_before" ] || { echo "package-test: sites-enabled not restored"; rc=1; }
  [ "$(find /var/lib/apache2 | sort)" = "$state_before" ] || { echo "package-test: /var/lib/apache2 not restored"; rc=1; }
  [ -n "${EKEY_PKG_KEEP:-}" ] || rm -rf "$work"
  [ $rc -eq 0 ] && echo "package-test: PASS" || echo "package-test: FAILED"
  exit $rc
}
trap cleanup EXIT

say "copy of the tree (tracked and new files, nothing ignored)"
src="$work/mod-ekey-0.1.0"
mkdir -p "$src"
(cd "$top" && git ls-files -co --exclude-standard -z | while IFS= read -r -d '' f; do
   [ -e "$f" ] && printf '%s\0' "$f"; done | tar --null -T - -cf -) | tar -xf - -C "$src"
[ -f "$src/debian/control" ] || die "no debian/ in the copy"

say "dpkg-buildpackage -us -uc -b"
if ! (cd "$src" && DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b) \
     >"$work/build.log" 2>&1; then
  tail -60 "$work/build.log"; die "dpkg-buildpackage"
fi
deb=$(ls "$work"/${pkg}_0.1.0_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || die "no .deb built"
dpkg-deb -c "$deb" > "$work/contents"
for f in ./usr/lib/apache2/modules/mod_ekey.so ./usr/lib/apache2/modules/mod_ekey_issuer.so \
         ./usr/bin/ekey ./usr/share/man/man1/ekey.1.gz ./etc/apache2/mods-available/ekey.load \
         ./etc/apache2/mods-available/ekey.conf ./etc/apache2/mods-available/ekey_issuer.load \
         ./etc/apache2/mods-available/ekey_issuer.conf ./usr/share/doc/$pkg/directives.md \
         ./usr/share/doc/$pkg/examples/quickstart.conf; do
  grep -q " $f\$" "$work/contents" || die "the package lacks $f"
done

say "apt-get install $(basename "$deb")"
apt-get install -y -q --no-install-recommends "$deb" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log"; die "apt-get install"; }
[ ! -e /etc/apache2/mods-enabled/ekey.load ] || die "the package enabled mod_ekey by itself"

say "a2enmod ekey ekey_issuer (+ Basic auth for the issuer)"
a2enmod -q ekey ekey_issuer auth_basic authn_file authz_user >/dev/null
[ -L /etc/apache2/mods-enabled/ekey.load ] && [ -L /etc/apache2/mods-enabled/slotmem_shm.load ] \
  || die "a2enmod ekey did not enable ekey and its dependency slotmem_shm"

say "keys, caller, content; the example site with its paths pointed at them"
mkdir -p "$work/etc" "$work/www" "$work/home"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/etc/issuer.pem" 2>/dev/null
chmod 600 "$work/etc/issuer.pem"
htpasswd -cbB "$work/etc/callers.htpasswd" agent-123 pkg-test-pass 2>/dev/null
echo "hello from mod_ekey" > "$work/www/hello.txt"
chmod 755 "$work/www"; chmod 644 "$work/www/hello.txt" "$work/etc/callers.htpasswd"
port=$(perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(Listen => 1,
  LocalAddr => "127.0.0.1", LocalPort => 0, ReuseAddr => 1) or die "$!"; print $s->sockport')
{ echo "Define EKEY_ETC $work/etc"; echo "Define EKEY_QS_ROOT $work/www"; echo "Define EKEY_QS_PORT $port"
  cat "/usr/share/doc/$pkg/examples/quickstart.conf"; } > /etc/apache2/sites-available/quickstart.conf
site_added=1
a2ensite -q quickstart >/dev/null

say "apachectl configtest (/etc/apache2)"
apachectl configtest >"$work/configtest.log" 2>&1 || { cat "$work/configtest.log"; die "configtest"; }
grep -q 'Syntax OK' "$work/configtest.log" || die "configtest: no Syntax OK"

say "Debian apache2, second instance $inst on 127.0.0.1:$port only"
cp -a /etc/apache2 "$inst"
: > "$inst/ports.conf"                       # no port 80/443: the site has its own Listen
rm -f "$inst"/sites-enabled/000-default.conf
(
  export APACHE_CONFDIR=$inst
  . "$inst/envvars"
  mkdir -p "$APACHE_RUN_DIR" "$APACHE_LOCK_DIR" "$APACHE_LOG_DIR"
  /usr/sbin/apache2 -d "$inst" -f "$inst/apache2.conf" -t >/dev/null 2>&1
  /usr/sbin/apache2 -d "$inst" -f "$inst/apache2.conf" -k start
) || die "apache2 (instance) did not start"
for _ in $(seq 100); do
  pid=$(cat /var/run/apache2-ekeypkg/apache2.pid 2>/dev/null || true)
  [[ "$pid" =~ ^[0-9]+$ ]] && curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.1
done
[[ "$pid" =~ ^[0-9]+$ ]] || die "apache2 (instance) wrote no pid file"

say "requests with the installed ekey CLI"
base="http://localhost:$port"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/hello.txt")
[ "$code" = 401 ] || die "without an E-Key: $code, expected 401"
export HOME="$work/home" EKEY_ISSUER_PASSWORD=pkg-test-pass
/usr/bin/ekey keygen >/dev/null 2>&1 || die "ekey keygen"
out=$(/usr/bin/ekey call -u agent-123 "$base/hello.txt" 2>"$work/call1.err") \
  || { cat "$work/call1.err"; die "ekey call: exit $?"; }
[ "$out" = "hello from mod_ekey" ] || die "ekey call answered '$out'"
echo "   200: $out"
set +e
/usr/bin/ekey call -u agent-123 --replay "$base/hello.txt" >/dev/null 2>"$work/call2.err"
rc=$?
set -e
[ $rc -eq 3 ] && grep -q replay_detected "$work/call2.err" \
  || { cat "$work/call2.err"; die "the replay was not refused with replay_detected (exit $rc)"; }
echo "   replay: $(cat "$work/call2.err")"
grep -q '"decision":"allowed"' /var/log/apache2-ekeypkg/ekey-audit.log \
  && grep -q '"decision":"replay_blocked"' /var/log/apache2-ekeypkg/ekey-audit.log \
  || die "the audit log lacks the two decisions"

say "stop apache2 (instance)"
kill "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$pid" 2>/dev/null || die "apache2 (instance) did not stop"
pid=
