#!/usr/bin/env bash
# ThreadSanitizer check of the code that runs on several threads (cmake/Sanitizers.cmake, LLMD_TSAN):
# builds build-tsan/ (the engine's tests only) and runs the tests that start threads: the `--threads`
# event loops with their shared ledger and hub (EngineThreads.*), and the engine against the in-process
# simulator, which serves on its own thread (EngineSim.*). Any data race fails the run (halt_on_error).
# Not part of .ci/run (a third full build would double its time); run it after changing threaded code.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LLMD_TSAN_BUILD_DIR:-$root/build-tsan}"
generator=()
command -v ninja >/dev/null && [ ! -f "$build/CMakeCache.txt" ] && generator=(-G Ninja)
cmake -S "$root" -B "$build" "${generator[@]}" -DLLMD_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" >/dev/null
cmake --build "$build" --parallel "$(nproc)" --target llmd_engine_tests
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  "$build/test/engine/llmd_engine_tests" --gtest_filter="${LLMD_TSAN_FILTER:-EngineThreads.*:EngineSim.*}"
