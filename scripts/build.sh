#!/usr/bin/env bash
# Configures and builds llmd-bench in build/ (or $LLMD_BUILD_DIR). Extra arguments go to cmake.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LLMD_BUILD_DIR:-$root/build}"
generator=()
command -v ninja >/dev/null && [ ! -f "$build/CMakeCache.txt" ] && generator=(-G Ninja)
cmake -S "$root" -B "$build" "${generator[@]}" -DLLMD_WARNINGS_AS_ERRORS=ON "$@" >/dev/null
cmake --build "$build" --parallel "$(nproc)"
