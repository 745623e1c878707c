#!/usr/bin/env bash
# bench/soak.sh - a bounded soak test of mod_ekey on loopback (issue 7): mixed valid and
# invalid DPoP requests for a few minutes against one httpd (prefork or event MPM).
#
#   bench/soak.sh BUILD_DIR [event|prefork]          (as root or as an ordinary user)
#   SOAK_DURATION=180 SOAK_WARMUP=30 SOAK_RATE=300 SOAK_CONNS=8 bench/soak.sh ...
#
# Every request is made before the run (ekey_benchgen, linked against BUILD_DIR's libekey)
# and sent once by wrk (bench/soak.lua), each kind on its own path, so the access log tells
# them apart (the query is not part of htu):
#   /soak/ok             a new valid token and proof                       200   (70 %)
#   /soak/badproof       valid token, proof signature altered              401   (10 %)
#   /soak/wrongcap       valid token for GET:/soak/other, valid proof      403   (10 %)
#   /soak/replay?u=1     a new valid token and proof                       200    (5 %)
#   /soak/replay?u=2     the same line again, 400 lines later (a replay)   401    (5 %)
# wrk paces each connection (SOAK_RATE requests/s at most in all). Fails (exit 1) unless:
# every logged request got its kind's status (no failed valid one, no accepted invalid
# one), wrk saw no socket error or timeout and did not run out of lines, httpd's memory
# (sum over parent and children of VmRSS - RssShmem from /proc, i.e. without the replay
# table's shared pages) grew by less than 5 % from the end of the warm-up to the end, the
# set of httpd processes did not change, and the error log has no line above warn (the
# expected denials are logged by ekey at info and counted).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:?usage: bench/soak.sh BUILD_DIR [event|prefork]}" && pwd)
MPM=${2:-event}
DURATION=${SOAK_DURATION:-180}
WARMUP=${SOAK_WARMUP:-30}
RATE=${SOAK_RATE:-300}
CONNS=${SOAK_CONNS:-8}
GAP=400                                  # lines between a replay's first and second use
case "$MPM" in event|prefork) ;; *) echo "soak: MPM must be event or prefork" >&2; exit 2 ;; esac
for t in wrk curl cc pkg-config; do
  command -v "$t" >/dev/null || { echo "soak: $t is missing (scripts/deps.sh, apt wrk)" >&2; exit 1; }
done
[ -f "$BUILD/.libs/mod_ekey.so" ] && [ -f "$BUILD/.libs/libekey.a" ] \
  || { echo "soak: build $BUILD first (mod_ekey.so, libekey.a)" >&2; exit 1; }

W=$(mktemp -d /tmp/ekey-soak.XXXXXX)
HPID=
cleanup() {
  if [ -n "$HPID" ] && kill -0 "$HPID" 2>/dev/null; then
    kill -TERM "$HPID"
    for _ in $(seq 100); do kill -0 "$HPID" 2>/dev/null || break; sleep 0.1; done
  fi
  [ -n "${SOAK_KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
log() { printf 'soak: %s\n' "$*" >&2; }
mkdir -p "$W/keys" "$W/logs" "$W/run" "$W/htdocs" "$W/lines"
chmod 755 "$W"
printf '{"status":"ok"}\n' >"$W/htdocs/item.json"
printf 'static\n' >"$W/htdocs/static.txt"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null \
  | openssl pkcs8 -topk8 -nocrypt -out "$W/keys/issuer.pem"
port=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1,
  LocalAddr => "127.0.0.1", LocalPort => 0)->sockport')
origin="http://127.0.0.1:$port"

# ---- requests: enough lines for the whole run at the paced rate, plus 10 %
total=$(( (RATE * (DURATION + 5) * 11) / 10 ))
chunks=$(( total / 20 + 1 ))             # 20 lines: 14 ok, 2 bad, 2 cap, 1 replay twice
n_ok=$((chunks * 14)); n_bad=$((chunks * 2)); n_cap=$((chunks * 2)); n_rep=$chunks
# shellcheck disable=SC2046
cc -O2 -I"$HERE/../src/core" $(pkg-config --cflags apr-1 jansson) -o "$W/ekey_benchgen" \
  "$HERE/ekey_benchgen.c" "$BUILD/.libs/libekey.a" $(pkg-config --libs apr-1 jansson libcrypto) -lpthread
gen() {  # FILE PATH ACTION N
  "$W/ekey_benchgen" ekey-dpop -k "$W/keys/issuer.pem" -u "$origin$2" -m GET -c "$3" -l 1 \
    -K 32 -t $((DURATION + 900)) -n "$4" -o "$W/lines/$1"
}
log "generating $total requests"
t0=$(date +%s)
gen ok /soak/ok GET:/soak/ok "$n_ok"
gen bad /soak/badproof GET:/soak/badproof "$n_bad"
gen cap /soak/wrongcap GET:/soak/other "$n_cap"
gen rep /soak/replay GET:/soak/replay "$n_rep"
# Interleave: a fixed pattern per 19 lines (+ one replay); a replay's second use comes GAP lines after its
# first. The proof's signature is altered in its middle (never the last character, whose
# low bits base64url may ignore).
perl -e '
  my ($dir, $gap) = @ARGV;
  my %f; open($f{$_}, "<", "$dir/lines/$_") or die "$_: $!" for qw(ok bad cap rep);
  my @pat = qw(ok ok ok bad ok ok ok cap ok ok rep ok ok ok bad ok ok cap ok);
  my (@out, @pending);
  LINE: while (1) {
    for my $k (@pat) {
      my $l = readline($f{$k}); last LINE unless defined $l;
      chomp $l; my ($t, $p) = split /\t/, $l;
      if ($k eq "ok") { push @out, "/soak/ok\t$t\t$p" }
      elsif ($k eq "cap") { push @out, "/soak/wrongcap\t$t\t$p" }
      elsif ($k eq "bad") {
        my @s = split /\./, $p; my $i = int(length($s[2]) / 2);
        substr($s[2], $i, 1) = substr($s[2], $i, 1) eq "A" ? "B" : "A";
        push @out, "/soak/badproof\t$t\t" . join(".", @s);
      } else {
        push @out, "/soak/replay?u=1\t$t\t$p"; push @pending, [scalar(@out) + $gap, "/soak/replay?u=2\t$t\t$p"];
      }
      while (@pending && $pending[0][0] <= @out) { push @out, (shift @pending)->[1] }
    }
  }
  print "$_\n" for @out;' "$W" "$GAP" >"$W/requests.txt"
log "generated $(wc -l <"$W/requests.txt") lines in $(( $(date +%s) - t0 )) s"

# ---- httpd: a fixed set of processes, so memory is compared over the same ones
# (event: 2 children x 16 threads; prefork: 2 x SOAK_CONNS children)
if [ "$MPM" = event ]; then
  mpm_conf="StartServers 2
ServerLimit 2
ThreadsPerChild 16
ThreadLimit 16
MinSpareThreads 8
MaxSpareThreads 32
MaxRequestWorkers 32"
else
  # all children started, none reaped (MaxSpareServers = all); MinSpareServers below the
  # total, or prefork logs "reached MaxRequestWorkers" at error level once one is busy
  mpm_conf="StartServers $((CONNS * 2))
MinSpareServers 1
MaxSpareServers $((CONNS * 2))
ServerLimit $((CONNS * 2))
MaxRequestWorkers $((CONNS * 2))"
fi
user_conf=
if [ "$(id -u)" -eq 0 ]; then
  user_conf="User www-data
Group www-data"
  chown www-data "$W/run"
fi
capacity=$(( total * 3 ))
cat >"$W/httpd.conf" <<CONF
ServerRoot "$W"
ServerName 127.0.0.1
PidFile $W/run/httpd.pid
DefaultRuntimeDir $W/run
ErrorLog $W/logs/error.log
LogLevel warn ekey:info
Listen 127.0.0.1:$port
$user_conf
LoadModule mpm_${MPM}_module /usr/lib/apache2/modules/mod_mpm_${MPM}.so
$mpm_conf
MaxConnectionsPerChild 0
LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authz_user_module /usr/lib/apache2/modules/mod_authz_user.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule slotmem_shm_module /usr/lib/apache2/modules/mod_slotmem_shm.so
LoadModule ekey_module $BUILD/.libs/mod_ekey.so
TypesConfig /etc/mime.types
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 60
LogFormat "%>s %U%q" soak
CustomLog $W/logs/access.log soak
DocumentRoot $W/htdocs
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory $W/htdocs>
    Require all granted
</Directory>
EKeyReplayCapacity $capacity
AliasMatch ^/soak/ $W/htdocs/item.json
<LocationMatch ^/soak/>
    AuthType EKey
    EKeyIssuer https://issuer.bench
    EKeyAudience https://api.bench
    EKeyTrustedKey $W/keys/issuer.pem
    EKeyPublicOrigin $origin
    EKeyMaxTTL 3600
    EKeyProofMaxAge 3600
    Require valid-user
</LocationMatch>
CONF
/usr/sbin/apache2 -d "$W" -f "$W/httpd.conf" -DFOREGROUND >"$W/logs/stdout" 2>&1 &
HPID=$!
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$origin/static.txt" || true)" = 200 ] && break
  kill -0 "$HPID" 2>/dev/null || { cat "$W/logs/stdout" "$W/logs/error.log" >&2; exit 1; }
  sleep 0.1
done
sleep 1                                  # let every child start

# ---- memory samples every 5 s: seconds, pids, VmRSS, RssShmem, RssAnon (kB, summed)
sample() {
  local pids p vm=0 sh=0 an=0 v s a
  pids="$HPID $(pgrep -P "$HPID" | sort -n | tr '\n' ' ')"
  for p in $pids; do
    read -r v s a < <(awk '/^VmRSS/{v=$2} /^RssShmem/{s=$2} /^RssAnon/{a=$2} END{print v+0, s+0, a+0}' \
                        "/proc/$p/status" 2>/dev/null || echo "0 0 0")
    vm=$((vm + v)); sh=$((sh + s)); an=$((an + a))
  done
  echo "$1 ${pids// /,} $vm $sh $an"
}
delay=$(( CONNS * 1000 / RATE ))
log "$MPM MPM: ${DURATION}s at <= $RATE req/s ($CONNS connections, ${delay} ms apart), warm-up ${WARMUP}s"
start=$(date +%s)
wrk -t1 -c"$CONNS" -d"${DURATION}s" --timeout 10s -s "$HERE/soak.lua" "$origin" -- \
  "$W/requests.txt" "$delay" >"$W/wrk.out" 2>&1 &
wpid=$!
: >"$W/rss.txt"
while kill -0 "$wpid" 2>/dev/null; do
  sample $(( $(date +%s) - start )) >>"$W/rss.txt"
  sleep 5
done
wait "$wpid" || { cat "$W/wrk.out" >&2; log "wrk failed"; exit 1; }
elapsed=$(( $(date +%s) - start ))
sleep 2                                  # requests still in flight when wrk stopped
sample "$elapsed" >>"$W/rss.txt"

# ---- verdict
fail=0
bad() { log "FAIL: $*"; fail=1; }
wrkline=$(grep '^soak-wrk:' "$W/wrk.out" || true)
[ -n "$wrkline" ] || { cat "$W/wrk.out" >&2; bad "no wrk summary"; }
for k in connect read write timeout ran_out; do
  v=$(sed -n "s/.* $k=\([0-9]*\).*/\1/p" <<<"$wrkline")
  [ "${v:-1}" = 0 ] || bad "wrk $k=$v"
done
# every access-log line against its kind's status
read -r n_req wrong counts < <(awk '
  $2 == "/static.txt" { next }         # the startup probe
  { want = $2 ~ /^\/soak\/ok$/ ? 200 : $2 ~ /^\/soak\/badproof$/ ? 401 : $2 ~ /^\/soak\/wrongcap$/ ? 403 \
         : $2 ~ /^\/soak\/replay\?u=1$/ ? 200 : $2 ~ /^\/soak\/replay\?u=2$/ ? 401 : 0
    k = $2; sub(/^\/soak\//, "", k); c[k " " $1]++; n++
    if ($1 != want) { w++; if (w <= 10) print "unexpected: " $0 > "/dev/stderr" } }
  END { s = ""; for (x in c) s = s x "=" c[x] ";"; print n + 0, w + 0, s }' "$W/logs/access.log")
[ "$wrong" = 0 ] || bad "$wrong request(s) did not get their kind's status"
[ "$n_req" -gt 0 ] || bad "no request logged"
n_denied=$(awk '$1 != 200 && $2 != "/static.txt"' "$W/logs/access.log" | wc -l)
above=$(grep -E '^\[[^]]*\] \[[a-z_0-9]+:(emerg|alert|crit|error)\]' "$W/logs/error.log" || true)
[ -z "$above" ] || { bad "error log lines above warn:"; head -5 <<<"$above" >&2; }
n_info=$(grep -c -E '\[ekey:info\].*\[client [^]]*\] EKEY00' "$W/logs/error.log" || true)
# memory: the first sample at or after the warm-up, and the last one
read -r _ pids0 vm0 sh0 _ < <(awk -v w="$WARMUP" '$1 >= w { print; exit }' "$W/rss.txt")
read -r _ pids1 vm1 sh1 _ < <(tail -1 "$W/rss.txt")
[ -n "${pids0:-}" ] || bad "the run ended before the warm-up did"
[ "${pids0:-x}" = "${pids1:-y}" ] || bad "httpd processes changed ($pids0 -> $pids1)"
own0=$(( ${vm0:-0} - ${sh0:-0} )); own1=$(( ${vm1:-0} - ${sh1:-0} ))
growth=$(awk -v a="$own0" -v b="$own1" 'BEGIN { printf "%.2f", (a > 0 ? (b - a) * 100 / a : 999) }')
awk -v g="$growth" 'BEGIN { exit !(g < 5) }' || bad "memory grew by $growth % (limit 5 %)"

cat <<REPORT
soak ($MPM MPM): $wrkline
  requests logged by httpd: $n_req in ${elapsed}s; wrong status: $wrong; by kind and status: $counts
  denials logged by ekey at info: $n_info (non-200 answers: $n_denied); error-log lines above warn: $(grep -c . <<<"$above" || true)
  httpd memory (VmRSS - RssShmem, parent + children, kB): ${own0} after warm-up -> ${own1} at end ($growth %)
  VmRSS with the replay table's shared pages (kB): ${vm0:-0} -> ${vm1:-0}
  command: SOAK_DURATION=$DURATION SOAK_WARMUP=$WARMUP SOAK_RATE=$RATE SOAK_CONNS=$CONNS bench/soak.sh BUILD_DIR $MPM
REPORT
[ "$n_info" = "$n_denied" ] || bad "ekey logged $n_info denials for $n_denied refused requests"
if [ "$fail" -ne 0 ]; then
  SOAK_KEEP=1                            # the logs and samples stay for a look
  echo "soak ($MPM MPM): FAILED (logs, access log and memory samples kept in $W)"
  exit 1
fi
echo "soak ($MPM MPM): PASS"
