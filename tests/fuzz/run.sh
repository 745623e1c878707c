#!/bin/bash
# run.sh - fuzzes one target for N minutes (docs/fuzzing.md).
#
#   tests/fuzz/run.sh TARGET MINUTES [libFuzzer options ...]
#
# Run it from the build directory after `make fuzz` (or set FUZZ_BIN_DIR to the directory
# holding the fuzz_* binaries). The target starts from its committed corpus and dictionary;
# new interesting inputs go to a scratch corpus outside the repository
# ($FUZZ_WORK_DIR/TARGET/corpus, default /tmp/ekey-fuzz), crashes, leaks and timeouts to
# tests/fuzz/crashes/TARGET/ in the source tree (gitignored). One process, one job (-jobs=1
# semantics: run at most as many of these at once as you have cores). The last line printed
# is a summary: target, seconds, executions, exec/s, new inputs, crashes.
set -u

if [ $# -lt 2 ]; then
    echo "usage: $0 TARGET MINUTES [libFuzzer options ...]" >&2
    exit 2
fi
target=$1
minutes=$2
shift 2
case $minutes in
    ''|*[!0-9]*) echo "run.sh: MINUTES must be a whole number" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
bindir=${FUZZ_BIN_DIR:-$PWD/tests/fuzz/bin}
bin=$bindir/$target
if [ ! -x "$bin" ]; then
    echo "run.sh: $bin not found: run 'make fuzz' in the build directory (or set FUZZ_BIN_DIR)" >&2
    exit 2
fi
if [ ! -d "$here/corpus/$target" ]; then
    echo "run.sh: no corpus $here/corpus/$target" >&2
    exit 2
fi
work=${FUZZ_WORK_DIR:-${TMPDIR:-/tmp}/ekey-fuzz}/$target
crashes=$here/crashes/$target
mkdir -p "$work/corpus" "$crashes"
log=$work/fuzz-$(date +%Y%m%d-%H%M%S).log
before=$(ls "$work/corpus" | wc -l)
start=$(date +%s)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# The scratch corpus comes first: libFuzzer writes new inputs into the first directory only.
"$bin" -max_total_time=$((minutes * 60)) -timeout=10 -rss_limit_mb=2048 -max_len=5000 \
    -dict="$here/$target.dict" -artifact_prefix="$crashes/" -print_final_stats=1 "$@" \
    "$work/corpus" "$here/corpus/$target" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
after=$(ls "$work/corpus" | wc -l)
found=$(ls "$crashes" | wc -l)
echo "run.sh: $target rc=$rc seconds=$(($(date +%s) - start))" \
     "execs=$(stat number_of_executed_units) exec/s=$(stat average_exec_per_sec)" \
     "peak_rss_mb=$(stat peak_rss_mb)" \
     "new_inputs=$((after - before)) crash_files=$found log=$log"
exit "$rc"
