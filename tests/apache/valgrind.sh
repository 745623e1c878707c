#!/usr/bin/env bash
# The Apache::Test suite with the suite's httpd under valgrind (memcheck), single process.
# Usage: tests/apache/valgrind.sh BUILD_DIR [prefork|event [t/FILE.t ...]]   (as root)
# BUILD_DIR is a build without sanitizers (configure CC=gcc). Fails on any valgrind error:
# invalid reads/writes, uses of uninitialised values, and definite leaks
# (--errors-for-leak-kinds=definite). Slow (about 20-50x): not part of scripts/test.sh.
# prefork is the default: httpd's threaded MPMs ignore SIGTERM with -D ONE_PROCESS.
# Without test files it runs every t/*.t except those that start httpds of their own
# (EKeyInstance's instance(), /usr/sbin/apache2): those never reach the server under
# valgrind, and valgrind's slowness only breaks their timing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: valgrind.sh BUILD_DIR [prefork|event [t/FILE.t ...]]}
mpm=${2:-prefork}
shift $(( $# < 2 ? $# : 2 ))
tests=("$@")
if [ "${#tests[@]}" -eq 0 ]; then
  while IFS= read -r f; do tests+=("t/${f##*/}"); done \
    < <(grep -L -E 'instance\(|/usr/sbin/apache2' "$here"/t/*.t | sort)
fi
echo "valgrind.sh: ${tests[*]}"
EKEY_VALGRIND=1 exec bash "$here/run.sh" "$build" "$mpm" "${tests[@]}"
