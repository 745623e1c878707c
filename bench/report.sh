#!/usr/bin/env bash
# bench/report.sh RESULTS.tsv EXTRA.txt - the Markdown report of one bench/run.sh run:
# absolute figures per case, the ratios and targets of issue 8, the scale figures
# (report_scale.sh) and the checks each server passed before it was measured.
set -euo pipefail
RES=$1
EXTRA=$2

# Several rounds (BENCH_ROUNDS): one row per case, its median round by httpd CPU per request
# (valid rounds only; the lower middle of an even count), with every round's CPU figure in a
# tenth field; openssl speed's rates likewise by their median.
MED=$(mktemp)
trap 'rm -f "$MED"' EXIT
awk -F'\t' -v OFS='\t' '
{ c = $1; if (!(c in n)) order[++k] = c; n[c]++; row[c, n[c]] = $0
  if ($2 ~ /^[0-9]+$/ && $8 == 0) { v[c, ++nv[c]] = $5; vr[c, nv[c]] = $0 } }
END {
    for (i = 1; i <= k; i++) {
        c = order[i]
        if (nv[c] == 0) { print row[c, 1], ""; continue }
        for (a = 1; a <= nv[c]; a++)            # insertion sort by CPU, rows along
            for (b = a; b > 1 && v[c, b] + 0 < v[c, b - 1] + 0; b--) {
                t = v[c, b]; v[c, b] = v[c, b - 1]; v[c, b - 1] = t
                t = vr[c, b]; vr[c, b] = vr[c, b - 1]; vr[c, b - 1] = t
            }
        all = ""
        for (a = 1; a <= nv[c]; a++) all = all (a > 1 ? ", " : "") sprintf("%d", v[c, a])
        if (nv[c] < n[c]) all = all " (" n[c] - nv[c] " round(s) invalid)"
        print vr[c, int((nv[c] + 1) / 2)], all
    }
}' "$RES" >"$MED"
median_of() {   # median of the values of key $1 in EXTRA
    sed -n "s/^$1=//p" "$EXTRA" | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}
G_SIGN=$(median_of g_sign_per_s)
G_VERIFY=$(median_of g_verify_per_s)

ver() { "$@" 2>/dev/null | head -1 || true; }
src=$(cd "$(dirname "$0")/.." && pwd)
# EKEY_COMMIT names the measured commit when the tree is not a git checkout (an export)
commit=${EKEY_COMMIT:-$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)}
dirty=$({ git -C "$src" status --porcelain -- src mod_ekey.c 2>/dev/null || true; } | wc -l)
[ "$dirty" -gt 0 ] && commit="$commit + uncommitted changes in src/"

cat <<EOF
# mod_ekey benchmark

- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Command: \`${BENCH_CMD:-bench/run.sh}\` (N=${N:-?} requests per case, at most ${DUR:-?} s, ${CONNS:-?} connections, ${KEYS:-?} DPoP client keys, MPM ${MPM:-?})
- Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, Linux $(uname -r); httpd pinned to core ${SERVER_CPU:-0}, wrk to core ${CLIENT_CPU:-1}
- Software: $(ver /usr/sbin/apache2 -v | sed 's/Server version: //'), $(ver openssl version), mod_oauth2 $(dpkg-query -W -f='${Version}' libapache2-mod-oauth2 2>/dev/null || echo '?') (liboauth2 $(dpkg-query -W -f='${Version}' liboauth2-0 2>/dev/null || echo '?')), mod_ekey at $commit
- Load average before/after: $(grep '^loadavg_start=' "$EXTRA" | cut -d= -f2) / $(grep '^loadavg_end=' "$EXTRA" | cut -d= -f2) (other work on the machine makes every figure worse and noisier); run took $(grep '^elapsed_s=' "$EXTRA" | cut -d= -f2) s

EOF

awk -F'\t' -v gsign="$G_SIGN" -v gverify="$G_VERIFY" -v nrounds="${ROUNDS:-1}" '
function desc(c) {
    if (c == "a")  return "httpd, the same small file, no authentication"
    if (c == "b")  return "mod_ekey, DPoP-bound E-Key, limit 1, shm replay table"
    if (c == "b0") return "as b, but a new client key for every token"
    if (c == "c")  return "as b, Redis replay store (extra: redis-server CPU)"
    if (c == "d")  return "mod_ekey, mTLS-bound E-Key, keep-alive TLS (extra: stunnel CPU)"
    if (c == "a2") return "the file over the same TLS path, no authentication"
    if (c == "e")  return "mod_ekey, limit-100 tokens, a fresh proof on every use"
    if (c == "f")  return "peer: mod_oauth2, ES256 JWT + DPoP proof"
    if (c == "h")  return "issuer: POST /token, EKeyIssuerRequireProof Off"
    if (c == "h2") return "issuer: POST /token with a minting proof (On)"
    if (c ~ /^sweep-c/) return "b with " substr(c, 8) " connection(s)"
    return c
}
function ms(us) { return sprintf("%.2f", us / 1000) }
function r2(x) { return sprintf("%.2f", x) }
function verdict(ok) { return ok ? "**met**" : "**not met**" }
BEGIN {
    if (gsign != "") sign_us = 1e6 / gsign
    if (gverify != "") verify_us = 1e6 / gverify
}
{
    c = $1; order[++n] = c; rps[c] = $2; p50[c] = $3; p99[c] = $4; cpu[c] = $5
    util[c] = $6; reqs[c] = $7; errs[c] = $8; xtra[c] = $9; rounds[c] = $10
    # only a measured case without failed requests counts (a failed request measured
    # something else than the case says)
    if ($2 !~ /^[0-9]+$/) { bad[c] = 1 }
    else if ($8 != 0) { bad[c] = 1; rps[c] = "invalid: " $8 " of " $7 " requests failed" }
    else ok[c] = 1
}
END {
    main = 0
    for (i = 1; i <= n; i++) if (order[i] !~ /^sweep/) main++
    if (main == 0 && verify_us == 0) exit      # a scale-only run (--sweep, --table)
    if (nrounds > 1)
        printf "## Cases (all measured in this run: %d rounds, each case its median round)\n\n", nrounds
    else
        print "## Cases (all measured in this run)\n"
    print "| case | what | req/s | req/s per httpd core | p50 ms | p99 ms | httpd CPU µs/req | httpd core busy | requests | errors | extra µs/req | CPU µs/req of each round |"
    print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= n; i++) {
        c = order[i]
        if (c ~ /^sweep/) continue
        if (!(c in ok)) { printf "| %s | %s | %s | | | | | | | | | %s |\n", c, desc(c), rps[c], rounds[c]; continue }
        printf "| %s | %s | %d | %d | %s | %s | **%d** | %d%% | %d | %d | %s | %s |\n", c, desc(c), rps[c],
               1e6 / cpu[c], ms(p50[c]), ms(p99[c]), cpu[c], util[c], reqs[c], errs[c],
               (c == "c" || c == "d" || c == "a2") ? xtra[c] : "", rounds[c]
    }
    if (verify_us > 0)
        printf "| g | OpenSSL ES256 on the server core (`openssl speed ecdsap256`) | | | | | sign %.1f, verify %.1f, two verifies **%.1f** | | | | | |\n",
               sign_us, verify_us, 2 * verify_us
    print ""
    print "## Ratios and the targets of issue 8\n"
    print "| figure | measured | target | verdict |"
    print "| --- | ---: | ---: | --- |"
    has_a = ("a" in ok); has_b = ("b" in ok); has_f = ("f" in ok)
    if (has_a && has_b && verify_us > 0) {
        floor = cpu["a"] + 2 * verify_us
        printf "| b CPU / (a + 2 ES256 verifies) | %d / %d µs = %s | ≤ 1.25 | %s |\n", cpu["b"], floor, r2(cpu["b"] / floor), verdict(cpu["b"] <= 1.25 * floor)
    }
    # httpd owns one core, so its throughput at saturation is 1e6 / (CPU per request); the
    # measured req/s also depend on how much of that core other processes left to httpd
    if (has_b && has_f) printf "| b / f throughput per httpd core (f CPU / b CPU) | %s (measured req/s: %s) | ≥ 3.5 | %s |\n", r2(cpu["f"] / cpu["b"]), r2(rps["b"] / rps["f"]), verdict(cpu["f"] >= 3.5 * cpu["b"])
    if (("c" in ok) && has_f) printf "| c / f throughput per httpd core (f CPU / c CPU) | %s (measured req/s: %s) | ≥ 2.5 | %s |\n", r2(cpu["f"] / cpu["c"]), r2(rps["c"] / rps["f"]), verdict(cpu["f"] >= 2.5 * cpu["c"])
    if (("e" in ok) && has_b) printf "| e CPU / b CPU | %s | ≤ 0.7 | %s |\n", r2(cpu["e"] / cpu["b"]), verdict(cpu["e"] <= 0.7 * cpu["b"])
    if (("h" in ok) && has_a && sign_us > 0) {
        hf = cpu["a"] + sign_us
        printf "| h CPU per mint / (a + 1 ES256 sign) | %d / %d µs = %s | ≤ 1.5 | %s |\n", cpu["h"], hf, r2(cpu["h"] / hf), verdict(cpu["h"] <= 1.5 * hf)
    }
    if (has_b && has_f) printf "| b p99 vs f p99 | %s ms vs %s ms | b < f | %s |\n", ms(p99["b"]), ms(p99["f"]), verdict(p99["b"] < p99["f"])
    print ""
    print "| other figure | value |"
    print "| --- | ---: |"
    if (has_a && has_b) printf "| CPU mod_ekey adds to a request (b − a) | %d µs (b/a = %s) |\n", cpu["b"] - cpu["a"], r2(cpu["b"] / cpu["a"])
    if (has_b && verify_us > 0) printf "| b CPU beyond httpd and the two verifies (b − a − 2 verify) | %d µs |\n", cpu["b"] - cpu["a"] - 2 * verify_us
    # b and e differ by the token signature check (e finds it in the signature cache):
    # one ES256 verification with the caches a request leaves, against the openssl speed loop
    if (has_b && ("e" in ok) && verify_us > 0) {
        vs = cpu["b"] - cpu["e"]
        printf "| the token verification inside httpd (b − e: e reuses the verified token signature; an issuer key verifies with its table of multiples) | %d µs (%s × `openssl speed`) |\n", vs, r2(vs / verify_us)
    }
    if (has_b && ("b0" in ok)) printf "| a new client key per token (b0 − b) | %d µs |\n", cpu["b0"] - cpu["b"]
    if (has_b && ("c" in ok)) printf "| Redis store instead of shm (c − b), httpd side | %d µs |\n", cpu["c"] - cpu["b"]
    if (("d" in ok) && ("a2" in ok)) printf "| CPU mod_ekey adds over TLS, mTLS binding (d − a2) | %d µs |\n", cpu["d"] - cpu["a2"]
    if (("h" in ok) && ("h2" in ok)) printf "| a minting proof at the issuer (h2 − h) | %d µs |\n", cpu["h2"] - cpu["h"]
    print ""
}' "$MED"

"$(dirname "$0")/report_scale.sh" "$RES" "$EXTRA"

echo "## Checks each server passed before it was measured"
echo
# every round checks its servers again: each distinct check once
sed -n 's/^check_ok=/- ok: /p' "$EXTRA" | awk '!seen[$0]++'
sed -n 's/^check_fail=/- **FAILED**: /p' "$EXTRA" | awk '!seen[$0]++'
