#!/usr/bin/env bash
# bench/profile.sh [CASES] - where httpd's CPU goes in some cases of bench/run.sh
# (default "b": DPoP-bound E-Key, limit 1, shm store).
#
# With perf: the cases run as in bench/run.sh while perf samples the httpd workers
# (cpu-clock, DWARF call graphs, so time spent inside OpenSSL is charged to the mod_ekey
# function that asked for it). Sampling costs some CPU, so these runs' figures are not the
# benchmark's: only the shares in the profile count. Writes bench/results/profile.txt.
# Without perf (no sampling allowed): callgrind runs httpd -X for case b instead.
#   BENCH_N (default 15000) requests per case; the other settings are bench/run.sh's.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
POUT=${BENCH_PROFILE_OUT:-$HERE/results/profile.txt}
WORK=${BENCH_WORK:-/tmp/ekey-bench}
CASES=${1:-b}
mkdir -p "$WORK" "$(dirname "$POUT")"

if perf record -q -e cpu-clock -o "$WORK/perf.check" true >/dev/null 2>&1; then
    rm -f "$WORK"/profile-*.txt
    BENCH_PERF=1 BENCH_CASES="$CASES" BENCH_SWEEP="" BENCH_OUT="$WORK/profile-run.md" \
        "$HERE/run.sh" >/dev/null
    {
        echo "# bench/profile.sh $CASES - $(date -u '+%Y-%m-%d %H:%M UTC'), N=${BENCH_N:-15000}"
        echo "# shares of the httpd worker's CPU time (perf cpu-clock samples)"
        for f in "$WORK"/profile-*.txt; do
            [ -e "$f" ] || continue
            echo
            cat "$f"
        done
    } >"$POUT"
    echo "bench: written to $POUT" >&2
    exit 0
fi

# ---- callgrind fallback: case b on httpd -X (one process), a few thousand requests
echo "bench: perf cannot sample here: callgrind on httpd -X (case b)" >&2
BENCH_SOURCE_ONLY=1
# shellcheck source=bench/run.sh
. "$HERE/run.sh"
port=$((PORT + 9))
mkdir -p "$WORK"/{bin,conf,logs,keys,req,run,htdocs/api}
rm -f "$RES" "$EXTRA"
ensure_packages
build
prepare
export T_STORE=
case_conf pb "$port" "$HERE/conf/b-ekey.conf.in"
gen "$WORK/req/pb.txt" 2000 ekey-dpop -k "$WORK/keys/issuer.pem" \
    -u "http://127.0.0.1:$port/api/item" -K "$KEYS" -l 1
# httpd -X drops to www-data when started as root, and callgrind writes its file again
# at exit: the file must be www-data's from the start
CGDIR="$WORK/run/callgrind"
mkdir -p "$CGDIR"
rm -f "$CGDIR/callgrind.out"
: >"$CGDIR/callgrind.out"
if [ "$(id -u)" -eq 0 ]; then chown www-data "$CGDIR" "$CGDIR/callgrind.out"; fi
taskset -c "$SERVER_CPU" valgrind --tool=callgrind --callgrind-out-file="$CGDIR/callgrind.out" \
    /usr/sbin/apache2 -X -d "$WORK" -f "$WORK/conf/pb.conf" >"$WORK/logs/callgrind.log" 2>&1 &
HPID=$!
STARTED+=("$HPID")
for _ in $(seq 1 300); do
    [ "$(http_status "http://127.0.0.1:$port/static.txt")" = 200 ] && break
    sleep 0.2
done
measure pb "http://127.0.0.1:$port" ekey-dpop "$WORK/req/pb.txt" /api/item 4
stop_httpd
callgrind_annotate --inclusive=yes "$CGDIR/callgrind.out" 2>/dev/null | head -80 >"$POUT"
echo "bench: written to $POUT" >&2
