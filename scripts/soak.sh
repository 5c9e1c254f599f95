#!/usr/bin/env bash
# Soak test (not in CI): SOAK_MINUTES (default 30) of mixed load from two `llmd-bench run` processes
# against an external `llmd-bench sim` with injected faults, printing each client's RSS every minute
# so a leak shows as growth. Loopback only.
#
# The load: a streaming client with closed-loop users (constant-vus) and Poisson arrivals at once,
# and a non-streamed client (a scenario streams or not), both with shared-prefix prompts and both
# scraping every pod's counters around the run, against 4 pods behind the prefix-aware gateway with
# 2% HTTP 500s and 2% cut streams; every RESTART_EVERY seconds (default 60) one pod is restarted
# through the simulator's admin endpoint (counters reset, in-flight streams cut).
#
#   scripts/soak.sh                       # 30 minutes
#   SOAK_MINUTES=5 scripts/soak.sh        # a shorter one
# Prints a table (minute, each client's RSS, the sim's RSS, pod restarts so far) and each client's
# RSS growth from minute 2 (after warm-up allocations) to the end; exits 1 when one grew more than
# SOAK_MAX_GROWTH_MB (default 16) or a run did not end on its own.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
minutes="${SOAK_MINUTES:-30}"
restart_every="${RESTART_EVERY:-60}"
max_growth_mb="${SOAK_MAX_GROWTH_MB:-16}"
[[ "$minutes" =~ ^[1-9][0-9]*$ ]] || { echo "soak: SOAK_MINUTES must be a whole number >= 1" >&2; exit 2; }
[[ "$restart_every" =~ ^[1-9][0-9]*$ ]] || { echo "soak: RESTART_EVERY must be a whole number of seconds >= 1" >&2; exit 2; }
"$root/scripts/setup.sh" >/dev/null
# Only the binary, in its own folder (no tests): what the soak runs.
export LLMD_BUILD_DIR="${LLMD_BUILD_DIR:-$root/build-soak}"
"$root/scripts/build.sh" -DLLMD_BUILD_TESTS=OFF >/dev/null
bin="$LLMD_BUILD_DIR/llmd-bench"
work="$(mktemp -d /tmp/llmd-soak.XXXXXX)"
sim_pid=""
run_pids=()
cleanup() {
  for pid in "${run_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

rss_mb() {  # VmRSS of a pid in MB, "-" when gone
  awk '/^VmRSS:/ {printf "%.1f", $2 / 1024; found = 1} END {if (!found) printf "-"}' "/proc/$1/status" 2>/dev/null || printf -- "-"
}

"$bin" sim --pods 4 --route prefix --error-rate 0.02 --abort-rate 0.02 --time-scale 0.05 >"$work/sim.json" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 1 100); do
  [ -s "$work/sim.json" ] && break
  sleep 0.1
done
[ -s "$work/sim.json" ] || { echo "soak: the simulator did not start: $(cat "$work/sim.err")" >&2; exit 1; }
gateway="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["gateway"])' "$work/sim.json")"
mapfile -t pods < <(python3 -c 'import json,sys; [print(p["url"]) for p in json.load(open(sys.argv[1]))["pods"]]' "$work/sim.json")

cat >"$work/streamed.yaml" <<YAML
name: soak-streamed
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 512, suffix_tokens: 16}
  max_tokens: 32
  stream: true
load:
  # start_time 0s: both phases run at once (a phase without one starts when the previous ends)
  - {name: users, executor: constant-vus, vus: 32, duration: ${minutes}m, start_time: 0s}
  - {name: arrivals, executor: poisson, rate: 40, max_in_flight: 128, duration: ${minutes}m, start_time: 0s}
checks: []      # the injected faults fail them by design; the threshold judges the run
thresholds:
  http_req_failed: ["rate<0.2"]
YAML
cat >"$work/non-streamed.yaml" <<YAML
name: soak-non-streamed
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 256, suffix_tokens: 32}
  max_tokens: 64
  stream: false
load:
  - {name: users, executor: constant-vus, vus: 8, duration: ${minutes}m}
checks: []      # the injected faults fail them by design; the threshold judges the run
thresholds:
  http_req_failed: ["rate<0.2"]
YAML
cache_args=()
for url in "${pods[@]}"; do
  cache_args+=(--cache-url "$url/metrics")
done
clients=(streamed non-streamed)
for client in "${clients[@]}"; do
  "$bin" run "$work/$client.yaml" --target "$gateway" -q "${cache_args[@]}" --out "json=$work/$client.json" \
    >"$work/$client.out" 2>"$work/$client.err" &
  run_pids+=($!)
done

printf '%-7s %16s %20s %11s %13s\n' minute "streamed RSS MB" "non-streamed RSS MB" "sim RSS MB" "pod restarts"
restarts=0
started=$(date +%s)
declare -A client_rss
for minute in $(seq 1 "$minutes"); do
  while [ $(( $(date +%s) - started )) -lt $(( minute * 60 )) ]; do
    sleep 5
    if [ $(( ($(date +%s) - started) % restart_every )) -lt 5 ]; then
      pod=$(( restarts % ${#pods[@]} ))
      curl -s -o /dev/null -X POST "$gateway/admin/pods/$pod/restart" && restarts=$((restarts + 1))
      sleep 5
    fi
  done
  for i in "${!clients[@]}"; do
    client_rss[$i,$minute]="$(rss_mb "${run_pids[$i]}")"
  done
  printf '%-7s %16s %20s %11s %13s\n' "$minute" "${client_rss[0,$minute]}" "${client_rss[1,$minute]}" \
    "$(rss_mb "$sim_pid")" "$restarts"
done

status=0
for i in "${!clients[@]}"; do
  pid="${run_pids[$i]}"
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "soak: the ${clients[$i]} run did not end within 2 minutes of its schedule" >&2
    status=1
  fi
  code=0
  wait "$pid" || code=$?
  echo "${clients[$i]}: exit code $code (threshold http_req_failed rate<0.2)"
  [ "$code" -eq 0 ] || status=1
  python3 - "$work/${clients[$i]}.json" <<'PY' || status=1
import json, sys
result = json.load(open(sys.argv[1]))
totals = {"ok": 0, "failed": 0, "aborted": 0, "dropped": 0}
for phase in result["run"]["phases"]:
    for key in totals:
        totals[key] += phase["counts"].get(key, 0)
print(f"  requests ok {totals['ok']}, failed {totals['failed']}, aborted {totals['aborted']}, "
      f"dropped {totals['dropped']}; verdict {result['verdict']}")
PY
  # From minute 2 (minute 1 when shorter) to the last minute the client was still running.
  first_minute=$(( minutes >= 2 ? 2 : 1 ))
  last_minute=$minutes
  while [ "$last_minute" -gt "$first_minute" ] && [ "${client_rss[$i,$last_minute]}" = "-" ]; do
    last_minute=$((last_minute - 1))
  done
  first="${client_rss[$i,$first_minute]}"
  last="${client_rss[$i,$last_minute]}"
  growth=$(python3 -c "print(round(float('$last') - float('$first'), 1))" 2>/dev/null || echo "?")
  echo "  RSS: minute $first_minute $first MB, minute $last_minute $last MB, growth $growth MB (allowed $max_growth_mb MB)"
  if [ "$growth" = "?" ] || python3 -c "import sys; sys.exit(0 if float('$growth') > float('$max_growth_mb') else 1)"; then
    status=1
  fi
done
run_pids=()
echo "raw outputs: $work"
exit "$status"
