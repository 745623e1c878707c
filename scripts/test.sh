#!/usr/bin/env bash
# The whole test suite from a fresh clone: install packages, build, unit tests (also under
# ASan+UBSan), then the Apache::Test suite against a real httpd. Exit 0 only if all passed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh
./autogen.sh >/dev/null

build() {  # build DIR CONFIGURE-ARGS...
  local dir=$1; shift
  mkdir -p "$dir"
  (cd "$dir" && "$top/configure" --enable-werror "$@" >configure.out 2>&1) \
    || { cat "$dir/configure.out"; exit 1; }
  make -C "$dir" -j"$(nproc)" >/dev/null
}

echo "== build (gcc, -Wall -Wextra -Werror)"
build build/gcc CC=gcc
echo "== example configurations load (apache2 -t)"
bash tests/examples/configtest.sh build/gcc
echo "== unit tests"
make -C build/gcc check -j"$(nproc)" || { cat build/gcc/tests/unit/*.log 2>/dev/null; exit 1; }
cat build/gcc/tests/unit/*.log
echo "== build (clang) with AddressSanitizer + UndefinedBehaviorSanitizer"
build build/asan CC=clang --enable-sanitizers
echo "== unit tests under sanitizers"
ASAN_OPTIONS=detect_leaks=1 make -C build/asan check -j"$(nproc)" \
  || { cat build/asan/tests/unit/*.log 2>/dev/null; exit 1; }
grep -h -E 'PASSED|FAILED' build/asan/tests/unit/*.log
# The suite runs as the unprivileged user ekeytest (Apache::Test refuses root and may still
# exit 0); run.sh fails unless it printed "Result: PASS" with a non-zero test count, and it
# starts and stops (by pid) the redis-server the Redis store tests use.
summary=()
for mpm in event prefork; do
  echo "== Apache::Test suite, $mpm MPM (real httpd, mod_ssl, the gcc build's modules)"
  bash tests/apache/run.sh build/gcc "$mpm" | tee build/apache-suite-$mpm.log
  summary+=("$(grep -E '^apache suite' build/apache-suite-$mpm.log | tail -1)")
done
echo "== Apache::Test suite under ASan+UBSan (event MPM, the clang build's modules)"
bash tests/apache/run.sh build/asan event | tee build/apache-suite-asan.log
summary+=("$(grep -E '^apache suite' build/apache-suite-asan.log | tail -1)")
echo "== interop: npm jose + dpop as client and as verifier (DPoP and mTLS)"
bash tests/interop/run.sh build/gcc
echo "== Debian package: build, install, a2enmod, a request under Debian's apache2, purge"
bash scripts/package-test.sh
echo "== summary"
printf '%s\n' "${summary[@]}"
echo "== all tests passed"
