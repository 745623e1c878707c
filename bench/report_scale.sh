#!/usr/bin/env bash
# bench/report_scale.sh RESULTS.tsv EXTRA.txt - the "Scale" section of a bench/run.sh report
# (issue 8, point 3): CPU per request of case b from 1 to 64 connections (the sweep-cN rows),
# replay table operations with 1 and 2 processes, memory per tracked trace and the largest
# table tested (the RTABLE and BIGTABLE lines of EXTRA). Prints nothing when neither ran.
set -euo pipefail
RES=$1
EXTRA=$2

awk -F'\t' -v extra="$EXTRA" '
function ms(us) { return sprintf("%.2f", us / 1000) }
function kv(line, arr,    m, f, j, p) {     # "RTABLE k=v k=v" -> arr[k] = v
    delete arr
    m = split(line, f, " ")
    for (j = 2; j <= m; j++) { p = index(f[j], "="); arr[substr(f[j], 1, p - 1)] = substr(f[j], p + 1) }
}
function yes(v) { return v == "yes" ? "yes" : "**" v "**" }
BEGIN {
    while ((getline l < extra) > 0) {
        if (l ~ /^RTABLE test=contention /) ct[++nct] = l
        if (l ~ /^RTABLE test=memory /) mem_line = l
        if (l ~ /^RTABLE test=fill /) fill_line = l
        if (l ~ /^BIGTABLE /) big[++nbig] = l
    }
}
$1 ~ /^sweep-c/ { c = substr($1, 8); sw[++nsw] = c; rps[c] = $2; p50[c] = $3; p99[c] = $4
                  cpu[c] = $5; util[c] = $6; errs[c] = $8 }
END {
    if (nsw == 0 && nct == 0 && fill_line == "" && nbig == 0) exit
    print "## Scale\n"
    if (nsw > 0) {
        base = ""
        for (i = 1; i <= nsw; i++) if (rps[sw[i]] ~ /^[0-9]+$/ && errs[sw[i]] == 0) { base = sw[i]; break }
        print "### httpd CPU per request as connections grow (case b: DPoP, limit 1, shm store)\n"
        printf "| connections | req/s | p50 ms | p99 ms | httpd CPU µs/req | CPU vs %s connection(s) | httpd core busy |\n", base
        print "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        for (i = 1; i <= nsw; i++) {
            c = sw[i]
            if (rps[c] !~ /^[0-9]+$/ || errs[c] != 0) { printf "| %s | %s (errors: %s) | | | | | |\n", c, rps[c], errs[c]; continue }
            printf "| %s | %d | %s | %s | **%d** | %.2f | %d%% |\n", c, rps[c], ms(p50[c]), ms(p99[c]),
                   cpu[c], cpu[c] / cpu[base], util[c]
        }
        print ""
    }
    if (nct > 0) {
        kv(ct[1], a)
        printf "### Replay table operations (bench/rtable_bench.c: src/core/rtable.c in apr_shm behind an APR global mutex, %s, as the module keeps it in mod_slotmem_shm behind its ap_mutex; %s slots)\n\n", a["mutex"], a["capacity"]
        print "| requests | processes | consumes/s (all processes) | wall ns per consume | CPU ns per consume | processes busy | critical section mean / p50 / p99 ns | lock wait mean / p50 / p99 ns | answers |"
        print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
        for (i = 1; i <= nct; i++) {
            kv(ct[i], a)
            w = a["workload"] == "unique" ? "unique DPoP (a trace and a jti each)" : a["repeat_pct"] " % re-presented (half replay, half jti replay)"
            printf "| %s | %d | **%d** | %d | %d | %d%% | %d / %d / **%d** | %d / %d / %d | %d allowed, %d replay, %d jti replay: %s |\n",
                   w, a["procs"], a["ops_per_s"], a["ns_per_op"], a["cpu_ns_per_op"], a["busy_pct"],
                   a["hold_mean_ns"], a["hold_p50_ns"],
                   a["hold_p99_ns"], a["wait_mean_ns"], a["wait_p50_ns"], a["wait_p99_ns"],
                   a["allowed"], a["replays"], a["jti_replays"], a["check"] == "pass" ? "as expected" : "**FAIL**"
        }
        print ""
    }
    slot = 32
    if (mem_line != "") { kv(mem_line, m); slot = m["slot_bytes"] }
    if (fill_line != "" || nbig > 0) {
        print "### Memory per tracked trace\n"
        print "| figure | value |"
        print "| --- | ---: |"
        printf "| one slot (a trace, or a DPoP jti until its proof window ends) | %d bytes |\n", slot
        if (nbig >= 2) {
            kv(big[1], b1); kv(big[2], b2)
            per = (b2["region_bytes"] - b1["region_bytes"]) / (b2["capacity"] - b1["capacity"])
            printf "| httpd shm region for EKeyReplayCapacity %d / %d (from /proc) | %d / %d bytes |\n",
                   b1["capacity"], b2["capacity"], b1["region_bytes"], b2["region_bytes"]
            printf "| per entry (difference of the two) and fixed part | %.1f bytes; %d bytes |\n",
                   per, b1["region_bytes"] - per * b1["capacity"]
        }
        if (fill_line != "") {
            kv(fill_line, f)
            printf "| load at the first \"full\" refusal (fill test, %d slots) | %.3f |\n", f["capacity"], f["load_at_first_full"]
            printf "| per live trace at that load (slot / load) | %.0f bytes |\n", slot / f["load_at_first_full"]
            printf "| per live trace as tested (%d traces in %d slots, no refusal) | %.0f bytes |\n",
                   f["live_target"], f["capacity"], f["region_bytes"] / f["live_target"]
            printf "| a DPoP limit-1 request while its proof is in the window (2 slots) | %.0f bytes |\n",
                   2 * f["region_bytes"] / f["live_target"]
        }
        print ""
    }
    if (fill_line != "") {
        kv(fill_line, f)
        print "### Largest table tested\n"
        print "| figure | value |"
        print "| --- | ---: |"
        printf "| table | %d slots, %.1f MB |\n", f["capacity"], f["region_bytes"] / 1e6
        printf "| %d new live traces, each taken | %.2f s, %d ns per consume (last 10 %%: %d ns) |\n",
               f["live_target"], f["fill_seconds"], f["fill_ns_per_op"], f["fill_last10pct_ns_per_op"]
        printf "| each presented again | %s refused as replays, %d ns per consume |\n", f["replays_verified"], f["verify_ns_per_op"]
        printf "| new traces beyond them: first \"full\" refusal | at %d live traces (load %.3f) |\n", f["first_full_at_live"], f["load_at_first_full"]
        printf "| beyond: presented / taken / refused as full | %d / %d / %d (%d ns per consume) |\n",
               f["beyond_presented"], f["beyond_accepted"], f["beyond_refused"], f["beyond_ns_per_op"]
        printf "| live at the end = taken (nothing evicted) | %s: %d (load %.3f) |\n", yes(f["live_equals_accepted"]), f["live_end"], f["load_end"]
        printf "| every live trace still a replay / a refused one stays refused / taken again after expiry | %s / %s / %s |\n",
               yes(f["all_live_still_replays"]), yes(f["refused_stay_refused"]), yes(f["taken_after_expiry"])
        for (i = 1; i <= nbig; i++) {
            kv(big[i], b)
            printf "| httpd with EKeyReplayCapacity %d | %s (started in %d ms, polled every 0.1 s) |\n",
                   b["capacity"], b["serves"] == "yes" ? "starts and serves: a valid request 200, again 401" : "**does not serve**", b["start_ms"]
        }
        print ""
    }
}' "$RES"
