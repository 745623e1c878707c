# Sourced by run.sh when EKEY_VALGRIND=1 (tests/apache/valgrind.sh): the suite's httpd runs
# as one process (Apache::Test's -one-process: `-D ONE_PROCESS`, no detach) under valgrind's
# memcheck. A definite leak or any memory error counts; valgrind.supp may list errors whose
# whole stack is outside mod_ekey, each with its reason. The httpds that demo.t and store.t
# start themselves, and config.t's `apache2 -t`, run without valgrind.

valgrind_setup() {
  command -v valgrind >/dev/null || { echo "run.sh: valgrind is not installed" >&2; exit 1; }
  mkdir -p "$work/valgrind"
  cat > "$work/httpd-valgrind" <<SH
#!/bin/sh
# Apache::Test also runs httpd -V / -l to learn about the server: those without valgrind.
case " \$* " in
  *" -f "*) exec valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \\
              --errors-for-leak-kinds=definite --error-exitcode=99 --num-callers=40 \\
              --track-origins=yes --keep-debuginfo=yes --suppressions="$work/valgrind.supp" \\
              --log-file="$work/valgrind/httpd.%p.log" /usr/sbin/apache2 "\$@" ;;
  *) exec /usr/sbin/apache2 "\$@" ;;
esac
SH
  chmod 755 "$work/httpd-valgrind"
  # One process serves one connection at a time: a keep-alive client would hold it while
  # the other clients of a concurrent test (issuer_more.t's ab -c 8) time out.
  printf '# tests/apache/valgrind.inc.sh: single process\nKeepAlive Off\n' \
    > "$work/t/conf/zz-valgrind.conf.in"
  httpd="$work/httpd-valgrind"
  topts+=(-one-process)
  # issuer_more.t's uniqueness run (100000 mints by default) would take hours under valgrind
  envs+=(APACHE_TEST_STARTUP_TIMEOUT=300 EKEY_UNIQUE_MINTS="${EKEY_UNIQUE_MINTS:-2000}")
}

# Fails unless every valgrind log is complete and reports no error (definite leaks count as
# errors); prints the summaries. A log with only valgrind's preamble is a child httpd forked
# for a CGI that then exec'd the script (valgrind does not follow exec): nothing to judge.
valgrind_check() {
  local bad=0 f n=0 exec=0
  wait_httpd_gone
  for f in "$work"/valgrind/httpd.*.log; do
    [ -e "$f" ] || continue
    if ! grep -q 'ERROR SUMMARY' "$f" \
       && [ "$(grep -c -v -E '^==[0-9]+== (Memcheck|Copyright|Using Valgrind|Command|Parent PID|$)' "$f")" = 0 ]; then
      exec=$((exec + 1)); continue
    fi
    n=$((n + 1))
    echo "valgrind: $(basename "$f"): $(grep -E 'ERROR SUMMARY' "$f" | tail -1 | sed 's/^==[0-9]*== //')"
    grep -E 'definitely lost:|indirectly lost:|possibly lost:' "$f" | sed 's/^==[0-9]*== /  /'
    if ! grep -q 'ERROR SUMMARY: 0 errors' "$f"; then
      bad=1
      grep -v -E '^==[0-9]+== *$' "$f" | sed -n '/Invalid\|uninitialised\|definitely lost in/,+30p' | head -150
    fi
  done
  [ "$n" -gt 0 ] || { echo "valgrind: no log (httpd did not run under valgrind)"; bad=1; }
  echo "valgrind: $n httpd process log(s) judged, $exec forked for a CGI exec (no summary)"
  mkdir -p "$work/t/logs/valgrind" && cp -a "$work/valgrind/." "$work/t/logs/valgrind/" || true
  [ "$bad" -eq 0 ] && echo "valgrind: no error, no definite leak" && return 0
  echo "valgrind: ERRORS FOUND"
  return 1
}
