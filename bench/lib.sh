# shellcheck shell=bash
# bench/lib.sh - helpers for bench/run.sh: processes we start (and stop by pid), httpd CPU
# from /proc, config templates, one wrk measurement. Sourced, not run.

STARTED=()                          # pids of every process this run started

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# Stops one process we started: TERM, up to 10 s, then KILL; reaps it.
stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

forget_pid() {
    local keep=() p
    for p in "${STARTED[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    STARTED=("${keep[@]}")
}

stop_all() {
    local p
    for p in "${STARTED[@]}"; do stop_pid "$p"; done
    STARTED=()
}

# Clock ticks (utime+stime, plus reaped children's) of a process and all its children:
# the httpd parent and every worker, never the load generator.
cpu_ticks() {
    local total=0 p f
    local pids
    pids="$1 $(pgrep -P "$1" 2>/dev/null | tr '\n' ' ')"
    for p in $pids; do
        f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        f=${f##*) }
        # shellcheck disable=SC2086
        set -- $f
        total=$((total + ${12} + ${13} + ${14} + ${15}))
    done
    echo "$total"
}

# Fills a template: every @NAME@ is replaced by $T_NAME (which may span lines); a field
# without a value stops the run rather than produce a half-configured server.
render() {
    local out=$1
    shift
    cat "$@" | perl -pe 's/\@([A-Z_]+)\@/defined $ENV{"T_$1"} ? $ENV{"T_$1"} : die "bench: template field $1 has no value\n"/ge' >"$out"
}

http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" || true; }

# Starts httpd for one case on the server core; waits until it serves the static file.
# Sets HPID.
start_httpd() {
    local name=$1 conf=$2 port=$3
    mkdir -p "$WORK/run/$name"
    if [ "$(id -u)" -eq 0 ]; then chown www-data "$WORK/run/$name" 2>/dev/null || true; fi
    taskset -c "$SERVER_CPU" /usr/sbin/apache2 -d "$WORK" -f "$conf" -DFOREGROUND \
        >"$WORK/logs/$name.stdout" 2>&1 &
    HPID=$!
    STARTED+=("$HPID")
    for _ in $(seq 1 150); do
        if ! kill -0 "$HPID" 2>/dev/null; then
            log "httpd for $name exited at startup:"
            tail -5 "$WORK/logs/$name.stdout" "$WORK/logs/$name.error.log" >&2 2>/dev/null || true
            forget_pid "$HPID"
            return 1
        fi
        [ "$(http_status "http://127.0.0.1:$port/static.txt")" = 200 ] && return 0
        sleep 0.1
    done
    log "httpd for $name did not answer on port $port"
    return 1
}

stop_httpd() {
    stop_pid "$HPID"
    forget_pid "$HPID"
    HPID=
}

# Expected status check before a case is measured. Failures are collected in CHECK_FAIL.
expect() {
    local what=$1 want=$2 got=$3
    if [ "$got" = "$want" ]; then
        CHECKS+=("$what: $got")
    else
        CHECK_FAIL+=("$what: got $got, want $want")
    fi
}

# A token with one signature character changed (the middle of the signature, so the
# base64url stays canonical): only a verifier that checks signatures refuses it.
tamper() {
    local t=$1 head sig c r=A
    head=${t%.*}
    sig=${t##*.}
    c=${sig:20:1}
    [ "$c" = A ] && r=B
    printf '%s.%s%s%s' "$head" "${sig:0:20}" "$r" "${sig:21}"
}

field() { # field N LINE: the N-th TAB-separated field
    printf '%s' "$2" | cut -f"$1"
}

# Generates N lines with ekey_benchgen on both cores (two halves, concatenated).
gen() {
    local out=$1 n=$2
    shift 2
    local h=$((n / 2))
    "$BIN/ekey_benchgen" "$@" -n "$h" -o "$out.1" &
    local p1=$!
    STARTED+=("$p1")
    "$BIN/ekey_benchgen" "$@" -n $((n - h)) -o "$out.2" || { wait "$p1"; return 1; }
    wait "$p1" || return 1
    forget_pid "$p1"
    cat "$out.1" "$out.2" >"$out"
    rm -f "$out.1" "$out.2"
}

# BENCH_PERF=1: perf samples the httpd workers while wrk runs (cpu-clock, DWARF call graphs,
# so time inside OpenSSL is charged to the mod_ekey function that asked for it); the top
# lists go to $WORK/profile-LABEL.txt.
perf_start() {
    local kids
    kids=$(pgrep -P "$HPID" | paste -sd, -)
    [ -n "$kids" ] || return 0
    perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$kids" \
        -o "$WORK/perf-$1.data" >"$WORK/logs/perf-$1.log" 2>&1 &
    PERF_PID=$!
    STARTED+=("$PERF_PID")
}

perf_stop() {
    [ -n "${PERF_PID:-}" ] || return 0
    kill -INT "$PERF_PID" 2>/dev/null || true
    wait "$PERF_PID" 2>/dev/null || true
    forget_pid "$PERF_PID"
    PERF_PID=
    {
        echo "# $1: self time by library"
        perf report -i "$WORK/perf-$1.data" --no-children --sort dso --stdio -g none \
            --percent-limit 0.5 2>/dev/null | grep -v '^#' | grep -v '^$'
        echo
        echo "# $1: inclusive time (a function and everything it calls), named functions"
        perf report -i "$WORK/perf-$1.data" --children --sort symbol --stdio -g none \
            --percent-limit 0.8 2>/dev/null | grep -v '^#' | grep -v '^$' | grep -v '\] 0x0000' \
            | awk 'NR <= 70 { $3 = ""; $NF = ""; $(NF-1) = ""; print }'
    } >"$WORK/profile-$1.txt" || true
}

# One measurement: wrk (one thread, on the client core) replays FILE once; httpd CPU is
# read from /proc before and after. Appends a row to $RES:
# label rps p50_us p99_us cpu_us_per_req httpd_util_pct requests errors extra_us_per_req
measure() {
    local label=$1 url=$2 mode=$3 file=$4 path=$5 conns=$6 extra_pid=${7:-}
    local c0 c1 x0=0 x1=0 out line kv wpid
    local requests=0 duration_us=1 status_errors=0 connect=0 read=0 write=0 timeout=0
    local p50_us=0 p99_us=0
    c0=$(cpu_ticks "$HPID")
    [ -n "$extra_pid" ] && x0=$(cpu_ticks "$extra_pid")
    rm -f "$WORK/wrk.done"
    taskset -c "$CLIENT_CPU" timeout $((DUR + 60)) wrk -t1 -c"$conns" -d"${DUR}s" \
        --timeout 10s -s "$HERE/replay.lua" "$url" -- "$file" "$mode" "$path" /static.txt \
        "$WORK/wrk.done" >"$WORK/wrk.out" 2>&1 &
    wpid=$!
    STARTED+=("$wpid")
    [ -n "${BENCH_PERF:-}" ] && perf_start "$label"
    # wrk sleeps for the whole -d even when the lines ran out; SIGINT ends it with its report
    while kill -0 "$wpid" 2>/dev/null; do
        if [ -e "$WORK/wrk.done" ]; then
            sleep 0.3
            kill -INT "$wpid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    wait "$wpid" 2>/dev/null || true
    forget_pid "$wpid"
    [ -n "${BENCH_PERF:-}" ] && perf_stop "$label"
    c1=$(cpu_ticks "$HPID")
    [ -n "$extra_pid" ] && x1=$(cpu_ticks "$extra_pid")
    out=$(cat "$WORK/wrk.out")
    line=$(printf '%s\n' "$out" | grep '^BENCH ' | tail -1)
    if [ -z "$line" ]; then
        log "$label: wrk gave no result:"
        printf '%s\n' "$out" | tail -5 >&2
        printf '%s\tfailed\t-\t-\t-\t-\t0\t-\t-\n' "$label" >>"$RES"
        return 1
    fi
    for kv in ${line#BENCH }; do
        case ${kv%%=*} in
        requests | duration_us | status_errors | connect | read | write | timeout | p50_us | p99_us)
            printf -v "${kv%%=*}" '%s' "${kv#*=}" ;;
        esac
    done
    [ "$requests" -gt 0 ] || requests=1
    awk -v l="$label" -v r="$requests" -v d="$duration_us" -v c="$((c1 - c0))" \
        -v x="$((x1 - x0))" -v t="$TCK" -v p50="$p50_us" -v p99="$p99_us" \
        -v e="$((status_errors + connect + read + write + timeout))" 'BEGIN {
        printf "%s\t%.0f\t%d\t%d\t%.0f\t%.0f\t%d\t%d\t%.0f\n", l, r / (d / 1e6), p50, p99,
               c * 1e6 / t / r, 100 * c / t / (d / 1e6), r, e, x * 1e6 / t / r }' >>"$RES"
    tail -1 "$RES" | awk -F'\t' '{ printf "bench:   %-10s %7s req/s  p50 %6.2f ms  p99 %6.2f ms  httpd %5s us/req (%s%% of a core)  n=%s errors=%s\n", $1, $2, $3/1000, $4/1000, $5, $6, $7, $8 }' >&2
    if [ $((status_errors + connect + read + write + timeout)) -gt 0 ]; then
        log "$label: $status_errors error statuses, $((connect + read + write + timeout)) socket errors (see $WORK/logs)"
    fi
}

# Bytes of the replay table's shared memory in a running httpd (PID: the parent): the largest
# shared mapping of at least MIN bytes in /proc/PID/maps; when it is backed by a file that
# still exists (APR names it /dev/shm/ShM.*), that file's exact size instead of whole pages.
shm_region_bytes() {
    local pid=$1 min=$2 range perms rest best=0 path='' p len
    while read -r range perms _ _ _ rest; do
        case $perms in *s) ;; *) continue ;; esac
        len=$((0x${range#*-} - 0x${range%-*}))
        if [ "$len" -ge "$min" ] && [ "$len" -gt "$best" ]; then best=$len path=$rest; fi
    done <"/proc/$pid/maps"
    [ "$best" -gt 0 ] || return 0
    p=${path% (deleted)}
    if [ -n "$p" ] && [ -f "$p" ]; then stat -c %s "$p"; else echo "$best"; fi
}
