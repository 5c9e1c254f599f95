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

# The sanitizer build (cmake/Sanitizers.cmake): any ASan or UBSan report fails its test.
# detect_stack_use_after_return: a view of a returned function's locals is caught, not read.
# LeakSanitizer works in this container (ptrace is allowed); a leak fails the test that leaked.
LLMD_BUILD_DIR="$asan_build" "$root/scripts/build.sh" -DLLMD_SANITIZE=ON
(cd "$asan_build" &&
  ASAN_OPTIONS=detect_stack_use_after_return=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --output-on-failure --parallel "$(nproc)" --timeout 600)
