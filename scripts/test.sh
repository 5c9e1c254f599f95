#!/usr/bin/env bash
# One command from a fresh Debian machine to a full test run: install what is missing, build,
# run every test (unit + integration against the real simulator on 127.0.0.1, and the fuzz corpora
# replayed), then build again with AddressSanitizer + UndefinedBehaviorSanitizer (gcc) in a second
# directory and run every test there too.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LLMD_BUILD_DIR:-$root/build}"
asan_build="${LLMD_ASAN_BUILD_DIR:-$root/build-asan}"

"$root/scripts/setup.sh"
"$root/scripts/build.sh"
(cd "$build" && ctest --output-on-failure --parallel "$(nproc)" --timeout 300)
# The browser test's screenshot of a real run's HTML report (test/integration/html_report_test.cpp).
if [ -f "$build/test-artifacts/html-report.png" ]; then
  echo "test.sh: HTML report screenshot (CI artifact): $build/test-artifacts/html-report.png"
fi

# The sanitizer build (cmake/Sanitizers.cmake): any ASan or UBSan report fails its test.
# detect_stack_use_after_return: a view of a returned function's locals is caught, not read.
# A leak fails the test that leaked. LeakSanitizer needs ptrace; where a sandbox forbids it, the
# probe below says so and the run goes on without leak detection (ASan and UBSan still run).
# -O1 -g1: what the sanitizers' manuals recommend (usable speed, file:line in every report), and it
# compiles in about 2/3 of the time of -O2 -g (gcc 12, lib/sim/gateway.cpp side by side: 145 s vs
# 218 s), which is most of .ci/run's wall time.
LLMD_BUILD_DIR="$asan_build" "$root/scripts/build.sh" -DLLMD_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
asan_options=detect_stack_use_after_return=1:detect_leaks=1
if ! ASAN_OPTIONS="$asan_options" "$asan_build/llmd-bench" --version >/dev/null 2>"$asan_build/lsan-probe.txt"; then
  if grep -qE "LeakSanitizer has encountered a fatal error|does not work under ptrace" "$asan_build/lsan-probe.txt"; then
    echo "test.sh: LeakSanitizer cannot run here ($(head -c 200 "$asan_build/lsan-probe.txt")); the sanitizer build runs without leak detection" >&2
    asan_options=detect_stack_use_after_return=1:detect_leaks=0
  else
    cat "$asan_build/lsan-probe.txt" >&2
    exit 1
  fi
fi
(cd "$asan_build" &&
  ASAN_OPTIONS="$asan_options" UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --output-on-failure --parallel "$(nproc)" --timeout 600)
