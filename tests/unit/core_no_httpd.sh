#!/bin/sh
# The core is server-agnostic: no file under src/core may include an httpd header (the CLI,
# unit tests and fuzzers link it without httpd). Fails naming the offending lines.
top=${EKEY_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bad=$(grep -nE '#[[:space:]]*include[[:space:]]*[<"](httpd|http_[a-z_]+|ap_[a-z_]+|mod_[a-z_]+|util_[a-z_]+|scoreboard|mpm_common)\.h' \
      "$top"/src/core/*.c "$top"/src/core/*.h)
files=$(ls "$top"/src/core/*.c "$top"/src/core/*.h | wc -l)
if [ "$files" -lt 10 ]; then echo "core_no_httpd: src/core not found under $top"; echo "0 passed, 1 failed"; exit 1; fi
if [ -n "$bad" ]; then
  echo "core_no_httpd: httpd headers in the core:"; echo "$bad"; echo "0 passed, 1 failed"; exit 1
fi
echo "core_no_httpd: $files core files, none includes an httpd header"
echo "1 passed, 0 failed"
