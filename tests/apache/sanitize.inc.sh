# Sourced by run.sh when the modules are built with ASan + UBSan (configure CC=clang
# --enable-sanitizers). The instrumented .so files need clang's ASan runtime in the process
# before them, so every process of the run gets it preloaded: the suite's httpd, the httpds
# that demo.t and store.t start themselves and config.t's `apache2 -t`. Reports go to
# files in $work/sanitizer/ (httpd's stderr is its error_log, which tests rotate through).
# Leak detection runs in the suite's httpd only; perl and the other tools are not ours and
# do not free at exit. The ekey CLI links its own (static) runtime and runs without the
# preload.
# httpd itself leaves memory at exit: its launcher process exits in apr_proc_detach() and its
# children in clean_child_exit() without destroying pconf, so everything configuration made
# (mod_ssl's SSL_CTXs, pcre2 patterns, our keys) shows up as leaked there. An LSan
# suppression file cannot tell those from ours (a pattern matches any frame, and our leaks
# also end in libcrypto or libapr). So every leak record is taken with a full stack
# (fast_unwind_on_malloc=0) and sorted:
#   - no frame of ours (mod_ekey*.so, an ekey_ function, src/): not ours, counted;
#   - ours, made while reading the configuration, in a process that never destroys pconf:
#     counted (the parent destroys pconf at shutdown, and there these must be freed);
#   - anything else of ours, in the parent or made while serving: fails the run.

sanitize_setup() {
  local rt common
  rt=$(clang -print-file-name=libclang_rt.asan-x86_64.so)
  [ -f "$rt" ] || { echo "run.sh: clang's ASan runtime ($rt) missing" >&2; exit 1; }
  mkdir -p "$work/sanitizer"
  common="log_path=$work/sanitizer/report:log_exe_name=1"
  # issuer_more.t's uniqueness run mints 100000 tokens by default: 10 minutes under ASan
  envs+=(EKEY_UNIQUE_MINTS="${EKEY_UNIQUE_MINTS:-10000}")
  envs+=(LD_PRELOAD="$rt" ASAN_OPTIONS="detect_leaks=0:$common"
         UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:$common")
  cat > "$work/httpd-sanitized" <<SH
#!/bin/sh
# the suite's httpd: as every process of the run, plus leak detection
ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:malloc_context_size=64:$common"
LSAN_OPTIONS="exitcode=0"
export ASAN_OPTIONS LSAN_OPTIONS
exec /usr/sbin/apache2 "\$@"
SH
  cat > "$work/ekey-sanitized" <<SH
#!/bin/sh
# the CLI carries its own ASan runtime: a preloaded second one would refuse to start
exec env -u LD_PRELOAD ASAN_OPTIONS="detect_leaks=1:$common" "$work/t/ekey" "\$@"
SH
  chmod 755 "$work/httpd-sanitized" "$work/ekey-sanitized"
  httpd="$work/httpd-sanitized"
  envs+=(EKEY_CLI="$work/ekey-sanitized")
}

# Prints the leak records of report $1 that count against us and any non-leak report (ASan
# error, UBSan, runtime trouble); exit status 1 if there is one. $2 is 1 when the report is
# the parent's. Last line: "counts FOREIGN CONFIG", the records of the first two kinds above.
classify_report() {
  awk -v RS= -v parent="$2" '
    /(Direct|Indirect) leak of/ {
      if ($0 !~ /mod_ekey(_issuer)?\.so|\/src\/(core|httpd|store|cli)\/| in ekey_/) foreign++
      else if (!parent && $0 ~ /in (ap_walk_config|ap_process_config_tree|ap_run_pre_config|ap_run_post_config) /) config++
      else { print; print ""; ours++ }
      next }
    /LeakSanitizer|SUMMARY: AddressSanitizer: [0-9]+ byte\(s\) leaked|^-+$|^=+$/ { next }
    /[^[:space:]]/ { print; print ""; other++ }
    END { print "counts " foreign + 0 " " config + 0; exit (ours + other > 0) }' "$1"
}

# Fails if a sanitizer reported a memory error, undefined behaviour or a leak of ours (files
# in sanitizer/), or if a report shows up in the error logs or the suite's output.
sanitize_check() {
  local bad=0 f out n foreign=0 config=0 parents
  wait_httpd_gone
  # the suite's parent httpd: the pid that logged "resuming normal operations"
  parents=" $(sed -n 's/.*\[pid \([0-9]*\).*AH00489:.*/\1/p' "$work/t/logs/error_log" | tr '\n' ' ')"
  for f in "$work"/sanitizer/*; do
    [ -e "$f" ] || continue
    case "$parents" in *" ${f##*.} "*) n=1 ;; *) n=0 ;; esac
    if ! out=$(classify_report "$f" "$n"); then
      echo "sanitizer report: $f"; printf '%s\n' "$out" | head -120; bad=1
    fi
    n=$(printf '%s\n' "$out" | sed -n 's/^counts //p')
    foreign=$((foreign + ${n% *})); config=$((config + ${n#* }))
  done
  echo "sanitizers: leak records at httpd exit: $foreign without a mod_ekey frame (httpd," \
       "mod_ssl, OpenSSL), $config of configuration objects in processes that never destroy" \
       "pconf (parent pid(s)$parents: none may remain); all kept in logs/sanitizer/"
  while IFS= read -r f; do
    echo "sanitizer report in $f:"
    grep -n -E -A30 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$f" | head -80
    bad=1
  done < <(grep -l -r -E 'ERROR: AddressSanitizer|runtime error:' "$work/t/logs" "$log" \
             2>/dev/null || true)
  mkdir -p "$work/t/logs/sanitizer" && cp -a "$work/sanitizer/." "$work/t/logs/sanitizer/" || true
  if [ "$bad" -eq 0 ]; then
    echo "sanitizers: no AddressSanitizer or UBSan report, no leak of ours"
    return 0
  fi
  echo "sanitizers: REPORTS FOUND"
  return 1
}
