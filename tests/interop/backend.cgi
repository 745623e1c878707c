#!/bin/sh
# The protected backend: logs the trace of each hit (a refused request must not reach it)
# and echoes what mod_ekey handed it. It reads the body first: mod_cgid fails the request
# otherwise.
if [ -n "$CONTENT_LENGTH" ]; then head -c "$CONTENT_LENGTH" >/dev/null; fi
echo "$EKEY_TRACE" >> "$INTEROP_HITS"
printf 'Content-Type: application/json\r\n\r\n'
printf '{"user":"%s","auth_type":"%s","bind":"%s","trace":"%s","cap":"%s","uses_left":"%s","jkt":"%s"}\n' \
  "$REMOTE_USER" "$AUTH_TYPE" "$EKEY_BIND" "$EKEY_TRACE" "$EKEY_CAP" "$EKEY_USES_LEFT" "$EKEY_JKT"
