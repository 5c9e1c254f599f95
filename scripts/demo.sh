#!/usr/bin/env bash
# The main job on a laptop: install what is missing, build, and run the canonical cache-hit
# scenario (20 requests sharing a 1,000-token prefix) against the embedded simulator: 4 vLLM-like
# pods behind a prefix-aware gateway. Prints the report; exits with llmd-bench's exit code.
#   scripts/demo.sh                 # prefix routing: hit rate 93.5%, gate passes, exit 0
#   scripts/demo.sh round-robin     # round-robin routing: 78.7%, the 90% gate fails, exit 1
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh" >/dev/null
"$root/scripts/build.sh" >/dev/null
bin="${LLMD_BUILD_DIR:-$root/build}/llmd-bench"
args=("$root/scenarios/cache-hit.yaml")
if [ $# -gt 0 ]; then
  args+=(--sim-route "$1")
fi
exec "$bin" run "${args[@]}"
