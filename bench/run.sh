#!/usr/bin/env bash
# bench/run.sh - mod_ekey against plain httpd, Debian's mod_oauth2 and OpenSSL's own rate.
#
# One command, loopback only, bounded in time (default: a few minutes). Every request is
# generated before its case runs and replayed once by wrk; httpd runs pinned to one core,
# wrk (and stunnel, redis-server) on the other; httpd CPU per request comes from /proc.
# Prints one table and writes it to bench/results/latest.md. See bench/README.md.
#
#   bench/run.sh           every case (a-h), the connection sweep and the replay table figures
#   bench/run.sh --sweep   case b's checks, then case b at 1, 2, 4 ... 64 connections
#   bench/run.sh --table   the replay table: ekey_rtable_bench (1 and 2 processes, 1,000,000
#                          live traces) and a real httpd with a 2,000,000-entry table
#   bench/run.sh --scale   --sweep and --table; these three write bench/results/scale.md
#
# Settings (environment):
#   BENCH_ROUNDS=3         every case (a-h) is measured this many times, in rounds one after
#                          the other; the report takes each case's median round (the
#                          machine's other load drifts; one round is as noisy as it is)
#   BENCH_N=15000          requests per case (each a unique token/proof, used once)
#   BENCH_DURATION=10      upper bound per case in seconds (a case also ends when its N
#                          requests are used up)
#   BENCH_CONNS=32         concurrent connections
#   BENCH_CLIENT_KEYS=32   DPoP client keys (clients reuse their key); case b0 uses a new
#                          key for every token
#   BENCH_CASES="a b b0 c d a2 e f g h sweep rtable bigtable"   which parts to run
#   BENCH_SWEEP="1 2 4 8 16 32 64"   connection counts of the sweep (on case b's server)
#   BENCH_RT_OPS=200000    ekey_rtable_bench: consumes per process (contention)
#   BENCH_RT_LIVE=1000000 BENCH_RT_CAPACITY=2000000   its fill test: live traces, table slots
#   BENCH_CAPACITY=1000000 EKeyReplayCapacity of the cases; BENCH_BIG_CAPACITY=2000000 the
#                          big table httpd starts with (bigtable)
#   BENCH_MPM=event        event or prefork
#   BENCH_WORK=/tmp/ekey-bench   scratch directory (keys, configs, logs, request files)
#   EKEY_BUILD=            a configured build directory with .libs/mod_ekey.so; default:
#                          builds the tree into $BENCH_WORK/build
#   BENCH_PORT=18400       first loopback port
#   BENCH_SERVER_CPU=0 BENCH_CLIENT_CPU=1
#   BENCH_OUT=bench/results/latest.md
# Longer, steadier runs: BENCH_N=60000 BENCH_DURATION=30 bench/run.sh
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(dirname "$HERE")
N=${BENCH_N:-15000}
ROUNDS=${BENCH_ROUNDS:-3}
ROUND=1
DUR=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNS:-32}
KEYS=${BENCH_CLIENT_KEYS:-32}
CASES=" ${BENCH_CASES:-a b b0 c d a2 e f g h sweep rtable bigtable} "
SWEEP=${BENCH_SWEEP:-1 2 4 8 16 32 64}
MPM=${BENCH_MPM:-event}
WORK=${BENCH_WORK:-/tmp/ekey-bench}
PORT=${BENCH_PORT:-18400}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
OUT=${BENCH_OUT:-$HERE/results/latest.md}
TCK=$(getconf CLK_TCK)
BIN=$WORK/bin
RES=$WORK/results.tsv
EXTRA=$WORK/extra.txt               # key=value figures (g, rtable, checks)
HPID=
CAPACITY=${BENCH_CAPACITY:-1000000}  # EKeyReplayCapacity: 32 MB, never full within a run
BIG_CAPACITY=${BENCH_BIG_CAPACITY:-2000000}
RT_OPS=${BENCH_RT_OPS:-200000}
RT_LIVE=${BENCH_RT_LIVE:-1000000}
RT_CAPACITY=${BENCH_RT_CAPACITY:-2000000}
SWEEP_ONLY=                          # --sweep: case b is checked, only the sweep measured

# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
trap stop_all EXIT
trap 'exit 130' INT TERM

want() { case $CASES in *" $1 "*) return 0 ;; esac; return 1; }

# ------------------------------------------------------------------ dependencies

ensure_packages() {
    local pkgs=(wrk libapache2-mod-oauth2 redis-server stunnel4 curl openssl apache2 perl)
    local missing=() p
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} (run as root to install them)"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
    local cflags libs
    if [ -z "${EKEY_BUILD:-}" ]; then
        EKEY_BUILD=$WORK/build
        if [ ! -f "$EKEY_BUILD/Makefile" ]; then
            [ -x "$SRC/configure" ] || (cd "$SRC" && ./autogen.sh >/dev/null 2>&1)
            mkdir -p "$EKEY_BUILD"
            (cd "$EKEY_BUILD" && "$SRC/configure" CC=gcc >"$WORK/logs/configure.log" 2>&1) \
                || die "configure failed (see $WORK/logs/configure.log)"
        fi
        log "building libekey, mod_ekey, mod_ekey_issuer in $EKEY_BUILD"
        make -C "$EKEY_BUILD" -j2 libekey.la mod_ekey.la mod_ekey_issuer.la \
            >"$WORK/logs/build.log" 2>&1 || die "build failed (see $WORK/logs/build.log)"
    fi
    # the replay table program is part of the build (noinst), linked against libekey.la
    if want rtable; then
        make -C "$EKEY_BUILD" bench/ekey_rtable_bench >>"$WORK/logs/build.log" 2>&1 \
            || die "cannot build bench/ekey_rtable_bench in $EKEY_BUILD (see $WORK/logs/build.log)"
    fi
    MODULES=$EKEY_BUILD/.libs
    if [ ! -f "$MODULES/mod_ekey.so" ] || [ ! -f "$MODULES/libekey.a" ]; then
        die "no .libs/mod_ekey.so and .libs/libekey.a in $EKEY_BUILD"
    fi
    cflags="-O2 -Wall -Wextra -I$SRC/src/core $(pkg-config --cflags apr-1 jansson)"
    libs="$MODULES/libekey.a $(pkg-config --libs apr-1 jansson libcrypto) -lpthread"
    # shellcheck disable=SC2086
    cc $cflags -o "$BIN/ekey_benchgen" "$HERE/ekey_benchgen.c" $libs
}

# Keys and certificates of this run only; a file to serve.
prepare() {
    local k=$WORK/keys
    openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null \
        | openssl pkcs8 -topk8 -nocrypt -out "$k/issuer.pem"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=127.0.0.1 -keyout "$k/server.key" -out "$k/server.crt" 2>/dev/null
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=bench-client -keyout "$k/client.key" -out "$k/client.crt" 2>/dev/null
    chmod 644 "$k"/*.crt
    printf '{"item":42,"status":"ok"}\n' >"$WORK/htdocs/api/item"
    printf 'static\n' >"$WORK/htdocs/static.txt"
    "$BIN/ekey_benchgen" jwk -k "$k/issuer.pem" -o "$k/issuer.jwk"
}

# The config of one case: base + MPM + the case's own fragment(s).
case_conf() {
    local name=$1 port=$2
    shift 2
    export T_WORK=$WORK T_CASE=$name T_PORT=$port T_MPM=$MPM T_MODULES=$MODULES
    export T_CAPACITY=$CAPACITY
    T_MPM_CONF=$(cat "$HERE/conf/mpm-$MPM.conf.in")
    T_USER=
    [ "$(id -u)" -eq 0 ] && T_USER=$'User www-data\nGroup www-data'
    export T_MPM_CONF T_USER
    render "$WORK/conf/$name.conf" "$HERE/conf/base.conf.in" "$@"
}

# -------------------------------------------------------------------- the cases

case_a() {
    case_conf a "$PORT" "$HERE/conf/a-static.conf.in"
    start_httpd a "$WORK/conf/a.conf" "$PORT" || return 0
    measure a "http://127.0.0.1:$PORT" plain - /api/item "$CONNS"
    stop_httpd
}

# Checks an E-Key DPoP server with 4 spare lines: valid, replay, forged signature, a proof
# made for another token. Prints nothing; fills CHECKS / CHECK_FAIL.
check_dpop_server() {
    local tag=$1 url=$2 scheme=$3 file=$4 l1 l2 l3 l4
    l1=$(sed -n 1p "$file"); l2=$(sed -n 2p "$file"); l3=$(sed -n 3p "$file"); l4=$(sed -n 4p "$file")
    expect "$tag valid request" 200 "$(http_status -H "Authorization: $scheme $(field 1 "$l1")" -H "DPoP: $(field 2 "$l1")" "$url")"
    expect "$tag same request again (replay)" 401 "$(http_status -H "Authorization: $scheme $(field 1 "$l1")" -H "DPoP: $(field 2 "$l1")" "$url")"
    expect "$tag forged token signature" 401 "$(http_status -H "Authorization: $scheme $(tamper "$(field 1 "$l2")")" -H "DPoP: $(field 2 "$l2")" "$url")"
    expect "$tag proof of another token/key" 401 "$(http_status -H "Authorization: $scheme $(field 1 "$l3")" -H "DPoP: $(field 2 "$l4")" "$url")"
    expect "$tag no credentials" 401 "$(http_status "$url")"
}

# Runs one DPoP case: config, server, checks, generated requests, measurement.
dpop_case() {
    local name=$1 port=$2 genmode=$3 keys=$4 limit=$5 conf=$6 extra_pid=${7:-}
    local url=http://127.0.0.1:$port/api/item scheme=EKey mode=ekey-dpop
    [ "$genmode" = oauth2-dpop ] && scheme=DPoP mode=oauth2-dpop
    CHECKS=() CHECK_FAIL=()
    start_httpd "$name" "$conf" "$port" || { echo "check_$name=server did not start" >>"$EXTRA"; return 1; }
    "$BIN/ekey_benchgen" "$genmode" -k "$WORK/keys/issuer.pem" -u "$url" -K "$keys" -l 1 -n 4 \
        -o "$WORK/req/$name.check"
    check_dpop_server "$name" "$url" "$scheme" "$WORK/req/$name.check"
    if [ "$limit" -gt 1 ]; then      # a multi-use token: two uses pass, then its jti replay fails
        "$BIN/ekey_benchgen" "$genmode" -k "$WORK/keys/issuer.pem" -u "$url" -K "$keys" \
            -l "$limit" -n 2 -o "$WORK/req/$name.check2"
        local a b
        a=$(sed -n 1p "$WORK/req/$name.check2"); b=$(sed -n 2p "$WORK/req/$name.check2")
        expect "$name use 1 of $limit" 200 "$(http_status -H "Authorization: EKey $(field 1 "$a")" -H "DPoP: $(field 2 "$a")" "$url")"
        expect "$name use 2 of $limit, fresh proof" 200 "$(http_status -H "Authorization: EKey $(field 1 "$b")" -H "DPoP: $(field 2 "$b")" "$url")"
        expect "$name proof reused" 401 "$(http_status -H "Authorization: EKey $(field 1 "$b")" -H "DPoP: $(field 2 "$b")" "$url")"
    fi
    report_checks "$name"
    # any failed check stops the case; only the peer (f) may miss a replay (it is reported)
    if [ "${#CHECK_FAIL[@]}" -gt 0 ] && { [ "$name" != f ] || printf '%s\n' "${CHECK_FAIL[@]}" | grep -qv 'replay'; }; then
        log "$name: not measured: the server does not behave as a verifier should"
        printf '%s\tnot measured\t-\t-\t-\t-\t0\t-\t-\n' "$name" >>"$RES"
        stop_httpd
        return 1
    fi
    [ -n "$SWEEP_ONLY" ] && [ "$name" = b ] && return 0     # --sweep: the sweep measures b
    log "$name: generating $N requests"
    gen "$WORK/req/$name.txt" "$N" "$genmode" -k "$WORK/keys/issuer.pem" -u "$url" -K "$keys" -l "$limit"
    measure "$name" "http://127.0.0.1:$port" "$mode" "$WORK/req/$name.txt" /api/item "$CONNS" "$extra_pid"
    rm -f "$WORK/req/$name.txt"
}

report_checks() {
    local c
    for c in "${CHECKS[@]}"; do echo "check_ok=$c" >>"$EXTRA"; done
    for c in "${CHECK_FAIL[@]}"; do echo "check_fail=$c" >>"$EXTRA"; log "CHECK FAILED: $c"; done
}

case_b() {
    local port=$((PORT + 1)) c
    export T_STORE=
    case_conf b "$port" "$HERE/conf/b-ekey.conf.in"
    dpop_case b "$port" ekey-dpop "$KEYS" 1 "$WORK/conf/b.conf" || return 0
    if want sweep && [ "$ROUND" -eq 1 ]; then
        for c in $SWEEP; do
            log "sweep: $c connections"
            gen "$WORK/req/sweep.txt" "$N" ekey-dpop -k "$WORK/keys/issuer.pem" \
                -u "http://127.0.0.1:$port/api/item" -K "$KEYS" -l 1
            measure "sweep-c$c" "http://127.0.0.1:$port" ekey-dpop "$WORK/req/sweep.txt" /api/item "$c"
        done
        rm -f "$WORK/req/sweep.txt"
    fi
    stop_httpd
}

case_b0() {
    local port=$((PORT + 2))
    export T_STORE=
    case_conf b0 "$port" "$HERE/conf/b-ekey.conf.in"
    dpop_case b0 "$port" ekey-dpop 0 1 "$WORK/conf/b0.conf" || return 0
    stop_httpd
}

case_e() {
    local port=$((PORT + 5))
    export T_STORE=
    case_conf e "$port" "$HERE/conf/b-ekey.conf.in"
    dpop_case e "$port" ekey-dpop "$KEYS" 100 "$WORK/conf/e.conf" || return 0
    stop_httpd
}

case_c() {
    local port=$((PORT + 3)) rport=$((PORT + 50)) rpid
    taskset -c "$CLIENT_CPU" redis-server --port "$rport" --bind 127.0.0.1 --save '' \
        --appendonly no --maxmemory-policy noeviction --daemonize no \
        >"$WORK/logs/redis.log" 2>&1 &
    rpid=$!
    STARTED+=("$rpid")
    for _ in $(seq 1 50); do
        redis-cli -p "$rport" ping 2>/dev/null | grep -q PONG && break
        sleep 0.1
    done
    export T_STORE="EKeyReplayStore redis
EKeyRedisServer 127.0.0.1:$rport"
    case_conf c "$port" "$HERE/conf/b-ekey.conf.in"
    if dpop_case c "$port" ekey-dpop "$KEYS" 1 "$WORK/conf/c.conf" "$rpid"; then stop_httpd; fi
    stop_pid "$rpid"
    forget_pid "$rpid"
}

case_f() {
    local port=$((PORT + 6))
    T_JWK=$(cat "$WORK/keys/issuer.jwk")
    export T_JWK
    [ -f /usr/lib/apache2/modules/mod_oauth2.so ] || { log "f: mod_oauth2 not installed"; return 0; }
    case_conf f "$port" "$HERE/conf/f-oauth2.conf.in"
    dpop_case f "$port" oauth2-dpop "$KEYS" 1 "$WORK/conf/f.conf" || return 0
    stop_httpd
}

# d (mTLS-bound E-Keys) and a2 (the same file over the same TLS path, no authentication).
tls_case() {
    local name=$1 port=$2 tport=$3 sport=$4 spid url
    url=https://127.0.0.1:$tport/api/item
    export T_TLS_PORT=$tport
    T_LOCATION=
    [ "$name" = d ] && T_LOCATION=$(T_WORK=$WORK perl -pe 's/\@WORK\@/$ENV{T_WORK}/g' "$HERE/conf/d-location.conf.in")
    export T_LOCATION
    case_conf "$name" "$port" "$HERE/conf/d-tls.conf.in"
    CHECKS=() CHECK_FAIL=()
    start_httpd "$name" "$WORK/conf/$name.conf" "$port" || return 0
    cat >"$WORK/conf/stunnel-$name.conf" <<EOF
foreground = yes
pid =
[bench]
client = yes
accept = 127.0.0.1:$sport
connect = 127.0.0.1:$tport
cert = $WORK/keys/client.crt
key = $WORK/keys/client.key
EOF
    taskset -c "$CLIENT_CPU" stunnel4 "$WORK/conf/stunnel-$name.conf" >"$WORK/logs/stunnel-$name.log" 2>&1 &
    spid=$!
    STARTED+=("$spid")
    sleep 0.5
    local cert=(--cert "$WORK/keys/client.crt" --key "$WORK/keys/client.key" -k)
    if [ "$name" = d ]; then
        "$BIN/ekey_benchgen" ekey-mtls -k "$WORK/keys/issuer.pem" -x "$WORK/keys/client.crt" -n 3 \
            -o "$WORK/req/d.check"
        local t1 t2 t3
        t1=$(sed -n 1p "$WORK/req/d.check"); t2=$(sed -n 2p "$WORK/req/d.check"); t3=$(sed -n 3p "$WORK/req/d.check")
        expect "d valid request" 200 "$(http_status "${cert[@]}" -H "Authorization: EKey $t1" "$url")"
        expect "d same request again (replay)" 401 "$(http_status "${cert[@]}" -H "Authorization: EKey $t1" "$url")"
        expect "d forged token signature" 401 "$(http_status "${cert[@]}" -H "Authorization: EKey $(tamper "$t2")" "$url")"
        expect "d no client certificate" 401 "$(http_status -k -H "Authorization: EKey $t3" "$url")"
        expect "d through stunnel" 200 "$(http_status -H "Authorization: EKey $t3" "http://127.0.0.1:$sport/api/item")"
        report_checks d
        if [ "${#CHECK_FAIL[@]}" -eq 0 ]; then
            log "d: generating $N requests"
            gen "$WORK/req/d.txt" "$N" ekey-mtls -k "$WORK/keys/issuer.pem" -x "$WORK/keys/client.crt"
            measure d "http://127.0.0.1:$sport" ekey-mtls "$WORK/req/d.txt" /api/item "$CONNS" "$spid"
            rm -f "$WORK/req/d.txt"
        else
            printf 'd\tnot measured\t-\t-\t-\t-\t0\t-\t-\n' >>"$RES"
        fi
    else
        measure a2 "http://127.0.0.1:$sport" plain - /api/item "$CONNS" "$spid"
    fi
    stop_pid "$spid"
    forget_pid "$spid"
    stop_httpd
}

# g: OpenSSL's own ES256 rate on the server core.
case_g() {
    local line
    line=$(taskset -c "$SERVER_CPU" openssl speed -seconds 3 ecdsap256 2>/dev/null | grep -E '^ *256 bits ecdsa' | tail -1)
    [ -n "$line" ] || { log "g: openssl speed gave no result"; return 0; }
    echo "$line" | awk '{ printf "g_sign_per_s=%s\ng_verify_per_s=%s\n", $(NF-1), $NF }' >>"$EXTRA"
    log "g: $(echo "$line" | awk '{ printf "%s signs/s, %s verifies/s", $(NF-1), $NF }')"
}

# h: the issuer, without (h) and with (h2) a minting proof.
case_h() {
    local port=$((PORT + 7)) l b
    local turl=http://127.0.0.1:$port/token purl=http://127.0.0.1:$port/token-pop
    case_conf h "$port" "$HERE/conf/h-issuer.conf.in"
    CHECKS=() CHECK_FAIL=()
    start_httpd h "$WORK/conf/h.conf" "$port" || return 0
    "$BIN/ekey_benchgen" issuer -k "$WORK/keys/issuer.pem" -u "$purl" -K "$KEYS" -P -n 2 -o "$WORK/req/h.check"
    l=$(sed -n 1p "$WORK/req/h.check")
    b=$(field 1 "$l")
    expect "h mint" 200 "$(http_status -X POST -H 'Content-Type: application/json' --data-binary "$b" "$turl")"
    expect "h mint, body with a private jwk member" 400 "$(http_status -X POST -H 'Content-Type: application/json' --data-binary "${b/\"kty\"/\"d\":\"AAAA\",\"kty\"}" "$turl")"
    expect "h2 mint with proof" 200 "$(http_status -X POST -H 'Content-Type: application/json' -H "DPoP: $(field 2 "$l")" --data-binary "$b" "$purl")"
    expect "h2 mint without proof" 400 "$(http_status -X POST -H 'Content-Type: application/json' --data-binary "$b" "$purl")"
    report_checks h
    log "h: generating $N mint requests"
    gen "$WORK/req/h.txt" "$N" issuer -k "$WORK/keys/issuer.pem" -u "$turl" -K "$KEYS"
    measure h "http://127.0.0.1:$port" issuer "$WORK/req/h.txt" /token "$CONNS"
    gen "$WORK/req/h2.txt" "$N" issuer -k "$WORK/keys/issuer.pem" -u "$purl" -K "$KEYS" -P
    measure h2 "http://127.0.0.1:$port" issuer "$WORK/req/h2.txt" /token-pop "$CONNS"
    rm -f "$WORK/req/h.txt" "$WORK/req/h2.txt"
    stop_httpd
}

# The replay table alone (the module's shm store code path outside httpd): consumes with 1 and
# 2 processes contending, and a table holding BENCH_RT_LIVE live traces, then filled beyond.
case_rtable() {
    local out=$WORK/rtable.out ok=1 l
    log "rtable: 1 and 2 processes x $RT_OPS consumes; $RT_LIVE live traces in $RT_CAPACITY slots"
    "$EKEY_BUILD/bench/ekey_rtable_bench" -P 2 -n "$RT_OPS" -c "$RT_CAPACITY" -L "$RT_LIVE" \
        -F "$RT_CAPACITY" >"$out" 2>"$WORK/logs/rtable.log" || ok=0
    sed 's/^/bench:   /' "$out" >&2
    cat "$out" >>"$EXTRA"
    while read -r l; do
        case $l in
        *test=contention*check=pass*) echo "check_ok=rtable $(rt_field workload "$l"), $(rt_field procs "$l") process(es): every answer as expected (allowed, replay, jti replay)" ;;
        *test=fill*check=pass*) echo "check_ok=rtable fill: $(rt_field live_target "$l") live traces taken and then each refused as a replay; beyond them new traces refused as full, none evicted, a refused one stays refused" ;;
        *check=FAIL*) echo "check_fail=rtable: $l" ;;
        esac
    done <"$out" >>"$EXTRA"
    [ "$ok" = 1 ] || { echo "check_fail=ekey_rtable_bench exited with an error (see $WORK/logs/rtable.log)" >>"$EXTRA"; log "rtable: FAILED"; }
}

rt_field() { # rt_field KEY LINE: the value of KEY=value in an RTABLE line
    printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# A real httpd with the shm table at CAPACITY and at BIG_CAPACITY entries: how long it takes
# to start, the size of the table's shared memory (from /proc: bytes per entry and the fixed
# part follow from the two sizes), and that it serves (a valid request 200, again 401).
case_bigtable() {
    local port=$((PORT + 10)) cap name url t0 t1 bytes l
    export T_STORE=
    url=http://127.0.0.1:$port/api/item
    for cap in "$CAPACITY" "$BIG_CAPACITY"; do
        local CAPACITY=$cap              # case_conf writes it as EKeyReplayCapacity
        name=table-$cap
        CHECKS=() CHECK_FAIL=()
        case_conf "$name" "$port" "$HERE/conf/b-ekey.conf.in"
        t0=$(date +%s%N)
        if ! start_httpd "$name" "$WORK/conf/$name.conf" "$port"; then
            echo "check_fail=httpd with EKeyReplayCapacity $cap did not start" >>"$EXTRA"
            continue
        fi
        t1=$(date +%s%N)
        bytes=$(shm_region_bytes "$HPID" $((cap * 32)))
        "$BIN/ekey_benchgen" ekey-dpop -k "$WORK/keys/issuer.pem" -u "$url" -K 1 -l 1 -n 1 \
            -o "$WORK/req/$name.check"
        l=$(sed -n 1p "$WORK/req/$name.check")
        expect "EKeyReplayCapacity $cap: valid request" 200 "$(http_status -H "Authorization: EKey $(field 1 "$l")" -H "DPoP: $(field 2 "$l")" "$url")"
        expect "EKeyReplayCapacity $cap: same request again (replay)" 401 "$(http_status -H "Authorization: EKey $(field 1 "$l")" -H "DPoP: $(field 2 "$l")" "$url")"
        report_checks "$name"
        echo "BIGTABLE capacity=$cap region_bytes=${bytes:-0} start_ms=$(((t1 - t0) / 1000000)) serves=$([ "${#CHECK_FAIL[@]}" -eq 0 ] && echo yes || echo NO)" | tee -a "$EXTRA" | sed 's/^/bench:   /' >&2
        stop_httpd
        rm -f "$WORK/run/$name"/*.persist     # mod_slotmem_shm's snapshot of the table
    done
}

# ------------------------------------------------------------------------- main

# --sweep, --table, --scale: only those parts (instead of BENCH_CASES), reported in scale.md.
parse_args() {
    local parts=
    while [ $# -gt 0 ]; do
        case $1 in
        --sweep) parts="$parts b sweep" SWEEP_ONLY=1 ;;
        --table) parts="$parts rtable bigtable" ;;
        --scale) parts="$parts b sweep rtable bigtable" SWEEP_ONLY=1 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (bench/run.sh --help)" ;;
        esac
        shift
    done
    if [ -n "$parts" ]; then
        CASES=" $parts "
        OUT=${BENCH_OUT:-$HERE/results/scale.md}
    fi
}

main() {
    local started
    parse_args "$@"
    started=$(date +%s)
    mkdir -p "$WORK"/{bin,conf,logs,keys,req,run,htdocs/api} "$(dirname "$OUT")"
    rm -f "$RES" "$EXTRA" "$WORK"/logs/*.log "$WORK"/req/*
    : >"$RES"
    ensure_packages
    build
    prepare
    export N DUR CONNS KEYS MPM SERVER_CPU CLIENT_CPU ROUNDS
    BENCH_CMD="$(env | { grep -E '^(BENCH_[A-Z_]+|EKEY_BUILD)=' || true; } | { grep -v '^BENCH_CMD=' || true; } | sort | tr '\n' ' ')bench/run.sh${*:+ $*}"
    export BENCH_CMD
    echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$EXTRA"
    log "cases:$CASES N=$N duration<=${DUR}s conns=$CONNS mpm=$MPM"
    [ -n "$SWEEP_ONLY" ] && ROUNDS=1     # --sweep/--scale: the sweep is measured once
    for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
        [ "$ROUNDS" -gt 1 ] && log "round $ROUND of $ROUNDS"
        want a && case_a
        want b && case_b
        want b0 && case_b0
        want c && case_c
        want d && tls_case d $((PORT + 4)) $((PORT + 44)) $((PORT + 45))
        want a2 && tls_case a2 $((PORT + 8)) $((PORT + 48)) $((PORT + 49))
        want e && case_e
        want f && case_f
        want g && case_g
        want h && case_h
    done
    want rtable && case_rtable
    want bigtable && case_bigtable
    echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$EXTRA"
    echo "elapsed_s=$(($(date +%s) - started))" >>"$EXTRA"
    "$HERE/report.sh" "$RES" "$EXTRA" | tee "$OUT"
    log "written to $OUT"
}

# bench/profile.sh sources this file for its functions only.
[ -n "${BENCH_SOURCE_ONLY:-}" ] || main "$@"
