#!/usr/bin/env bash
# Runs one libFuzzer target of test/fuzz for a while, then keeps what it found:
#
#   scripts/fuzz.sh TARGET SECONDS [LIBFUZZER_FLAG...]     e.g. scripts/fuzz.sh sse_openai 600
#
# Installs clang and libFuzzer's runtime (Debian's clang, libclang-rt-14-dev) only when missing,
# builds the target with -fsanitize=fuzzer,address,undefined in its own directory (build-fuzz/, or
# $LLMD_FUZZ_BUILD_DIR), fuzzes a copy of test/fuzz/corpus/TARGET, then minimizes that corpus with
# what the run found (-merge=1: the fewest inputs reaching every edge reached). Crashes, leaks and
# broken invariants are saved under build-fuzz/artifacts/TARGET/ and make the script exit 1; the
# run's log (executions, coverage, findings) is build-fuzz/logs/TARGET-<time>.log.
# Replay a saved input with the normal build: build/test/fuzz/llmd_fuzz_TARGET FILE.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
targets=(prom_text sse_openai classify_body scenario_loader threshold_expr prometheus_api_json)

usage() {
  echo "usage: scripts/fuzz.sh TARGET SECONDS [LIBFUZZER_FLAG...]; targets: ${targets[*]}" >&2
  exit 2
}
[ $# -ge 2 ] || usage
target="$1"
seconds="$2"
shift 2
[[ " ${targets[*]} " == *" $target "* ]] || usage
[[ "$seconds" =~ ^[0-9]+$ ]] || usage

# clang, and libFuzzer's runtime (libclang_rt.fuzzer), through setup.sh (installs only what is missing).
fuzz_packages=()
command -v clang++ >/dev/null 2>&1 || fuzz_packages+=(clang)
dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed" || fuzz_packages+=(libclang-rt-14-dev)
if [ ${#fuzz_packages[@]} -gt 0 ]; then
  "$root/scripts/setup.sh" "${fuzz_packages[@]}"
fi

build="${LLMD_FUZZ_BUILD_DIR:-$root/build-fuzz}"
generator=()
command -v ninja >/dev/null && [ ! -f "$build/CMakeCache.txt" ] && generator=(-G Ninja)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$build" "${generator[@]}" "${launcher[@]}" -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLMD_FUZZ=ON -DLLMD_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target "llmd_fuzz_$target" --parallel "$(nproc)"

corpus="$root/test/fuzz/corpus/$target"
work="$(mktemp -d "${TMPDIR:-/tmp}/llmd-fuzz-$target.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -r "$corpus" "$work/corpus"
artifacts="$build/artifacts/$target"
mkdir -p "$artifacts" "$build/logs"
log="$build/logs/$target-$(date +%Y%m%d-%H%M%S).log"
binary="$build/test/fuzz/llmd_fuzz_$target"

echo "fuzz: $target for ${seconds}s on a copy of test/fuzz/corpus/$target; log: $log"
# -max_len: inputs grow up to 16 KiB (seeds above it are cut to it when mutated); -timeout: an input
# taking more than 10 s is a finding (a hang), as is one taking more than 2 GiB (-rss_limit_mb).
set +e
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
  "$binary" -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$@" "$work/corpus" >"$log" 2>&1
status=$?
set -e
grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::|^SUMMARY|^==[0-9]+==ERROR|invariant broken|Test unit written" "$log" || true

# Keep the committed corpus small: the named inputs (seed-*, case-*, fixture-*, scenario-*: the
# repo's fixtures and the issue's cases) always stay; the hash-named ones are replaced by the fewest
# inputs of corpus + this run that reach every edge reached (-use_counters=0: edges, not hit counts).
before=$(find "$corpus" -type f | wc -l)
minimized="$work/minimized"
mkdir "$minimized"
"$binary" -merge=1 -use_counters=0 "$minimized" "$corpus" "$work/corpus" >>"$log" 2>&1
find "$corpus" -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' -delete
named_sums="$(find "$corpus" -type f -exec sha1sum {} + | cut -d' ' -f1)"
for input in "$minimized"/*; do
  grep -qx "$(basename "$input")" <<<"$named_sums" || cp "$input" "$corpus/"
done
after=$(find "$corpus" -type f | wc -l)
echo "fuzz: test/fuzz/corpus/$target: $before inputs before, $after now ($(du -sh --apparent-size "$corpus" | cut -f1)); log: $log"
if [ "$status" -ne 0 ]; then
  echo "fuzz: $target found a problem (exit $status); inputs in $artifacts:" >&2
  ls -1 "$artifacts" >&2
  exit 1
fi
