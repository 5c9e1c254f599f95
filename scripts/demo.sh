#!/usr/bin/env bash
# The main job on a laptop: build llmd-bench, start the embedded vLLM-compatible fleet (4 pods
# behind a prefix-aware gateway), send 20 requests that share a 1,000-token prefix, and show each
# pod's prefix-cache counters as vLLM exports them. (Until `llmd-bench run` lands, the requests
# are sent with curl; the counters are read from each pod's real /metrics.)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh" >/dev/null
"$root/scripts/build.sh" >/dev/null
bin="${LLMD_BUILD_DIR:-$root/build}/llmd-bench"

route="${1:-prefix}"
info="$(mktemp)"
"$bin" sim --pods 4 --route "$route" --time-scale 0.05 --host llm-d.demo.local >"$info" 2>/dev/null &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null; rm -f "$info"' EXIT
for _ in $(seq 100); do [ -s "$info" ] && break; sleep 0.05; done
gateway=$(sed -n 's/.*"gateway":"\([^"]*\)".*/\1/p' "$info")
pods=$(grep -o '"url":"[^"]*"' "$info" | cut -d'"' -f4)
echo "fleet: 4 simulated vLLM pods behind $gateway (route $route, Host llm-d.demo.local)"

prefix=$(seq -f 'p%g' 0 999 | tr '\n' ' ')
for i in $(seq 1 20); do
  curl -sf -o /dev/null -H 'Host: llm-d.demo.local' -H 'Content-Type: application/json' "$gateway/v1/completions" \
    -d "{\"prompt\":\"$prefix unique$i\",\"max_tokens\":8}"
done
echo "sent 20 requests sharing a 1,000-token prefix"
printf '%-10s %10s %10s %9s\n' pod queries hits hit-rate
n=0
for url in $pods; do
  metrics=$(curl -sf "$url/metrics")
  q=$(awk '/^vllm:prefix_cache_queries_total/ {print $2}' <<<"$metrics")
  h=$(awk '/^vllm:prefix_cache_hits_total/ {print $2}' <<<"$metrics")
  rate=$(awk -v q="$q" -v h="$h" 'BEGIN { if (q > 0) printf "%.1f%%", 100*h/q; else print "-" }')
  printf '%-10s %10s %10s %9s\n' "sim-pod-$n" "$q" "$h" "$rate"
  n=$((n+1))
done
