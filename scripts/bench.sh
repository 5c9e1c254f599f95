#!/usr/bin/env bash
# Benchmark of llmd-bench (issue 5): Release build, loopback only, bounded in time (~10 minutes).
#   1. peers:        nginx serves a recorded vLLM stream for POST; wrk, h2load, hey and `llmd-bench run`
#                    hit it with the same connection count and one client thread, alternating.
#   2. concurrency + timing truth: 100, 1,000 and 10,000 concurrent streams from ONE `llmd-bench run`
#                    against `llmd-bench sim --stamp-events` (slow cadence: all open at once);
#                    client-added TTFT/ITL error from the sim's send-time stamps.
#   3. open loop:    constant-arrival-rate at several rates: achieved vs target, schedule lag, drops.
#   4. scrape:       parse of 100 real-format 50 KB /metrics dumps; a 100-pod parallel scrape of the sim.
#   interference (only with BENCH_PARTS=interference): 1,000 streams against the embedded simulator
#                    without and with `cache.interval: 1s` (a background thread scraping every pod):
#                    event-loop lag p99 of both runs, printed and kept in $work/interference.txt.
#   csv (only with BENCH_PARTS=csv): runs of 50,000 and 200,000 requests without and with --out csv:
#                    peak RSS and wall time side by side, kept in $work/csv.txt.
#   shards (only with BENCH_PARTS=shards): 4 shard processes x 250 users (run --shard, --start-at, merge)
#                    vs one process x 1,000 users against one simulator: requests, TTFT p50/p95/p99 and
#                    verdict side by side, in $work/shards.txt.
#   threads (only with BENCH_PARTS=threads): 1,000 streams from one process with --threads 1 and --threads 2
#                    (alternating, twice each), (a) against nginx serving 1,000-event streams (a server that is
#                    not the bottleneck) and (b) against a separate `llmd-bench sim` (tokens 50 ms apart): SSE
#                    events/s, client CPU per event, loop lag p99, the ratios and which limit applied, in
#                    $work/threads.txt.
#   burst (only with BENCH_PARTS=burst): 1,000 users starting together (one request each) against a
#                    simulator with a fixed 100 ms prefill and send-time stamps: TTFT p50/p99 above the
#                    server's 100 ms and the client-added part (stamp to receipt), straight to a pod with
#                    the built-in client and with libcurl, and through the gateway; twice, in $work/burst.txt.
#   http (only with BENCH_PARTS=http): the built-in HTTP/1.1 client (--http-engine auto) and libcurl
#                    (--http-engine curl) side by side: the peers run against wrk, and 1,000 streams against a
#                    separate simulator (events/s, client CPU per event, events per CPU-second), in $work/http.txt.
#   merge (only with BENCH_PARTS=merge): `llmd-bench merge` of 16 shard files of a 10-minute run
#                    (scripts/bench/merge_shards.py: one real result copied 16x with the shard fields, 600
#                    per-second buckets, dense histograms); wall time and peak RSS of 3 merges, target < 1 s,
#                    kept in $work/merge.txt.
# Prints a table and writes bench-results.json (path: $BENCH_OUT, default ./bench-results.json).
# Knobs: BENCH_CONNECTIONS (64), BENCH_PEER_SECONDS (5), BENCH_ROUNDS (2), BENCH_STREAMS ("100 1000 10000"),
# BENCH_PARTS ("all", "concurrency" (part 2 alone), "interference", "csv", "merge", "shards", "threads", "burst" or "http"), BENCH_BURST_USERS (1000), BENCH_THREAD_STREAMS (1000),
# BENCH_THREAD_SECONDS (15), BENCH_THREADS (2), BENCH_THREAD_TOKENS (100), BENCH_THREAD_INTER_TOKEN_MS (50), BENCH_INTERFERENCE_STREAMS (1000), BENCH_INTERFERENCE_SECONDS (20),
# BENCH_CSV_REQUESTS (50000: the small run; the large one is 4x), BENCH_MERGE_SHARDS (16), BENCH_MERGE_SECONDS (600),
# BENCH_BASELINE (unset; git revisions of this repository, space-separated: part 2 also runs each one's client on
# the same scenarios, right after this build's, and prints the ratio; each built once into build-baseline/COMMIT/),
# BENCH_THP (unset; 1: part 2 also runs this build with LLMD_BENCH_HUGE_PAGES=0 (4 KiB pages: the binary
# advises malloc's heap into transparent huge pages by default) and with GLIBC_TUNABLES=glibc.malloc.hugetlb=1
# (glibc's own way, which also covers per-thread arenas), straight after its default run, and prints the ratios).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
here="$root/scripts/bench"
out="${BENCH_OUT:-$PWD/bench-results.json}"
connections="${BENCH_CONNECTIONS:-64}"
peer_seconds="${BENCH_PEER_SECONDS:-5}"
rounds="${BENCH_ROUNDS:-2}"
stream_counts="${BENCH_STREAMS:-100 1000 10000}"
work="$(mktemp -d /tmp/llmd-bench.XXXXXX)"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

log() { echo "bench: $*" >&2; }

"$root/scripts/setup.sh" nginx wrk nghttp2-client hey python3 curl >&2
log "building Release into build-release/"
# -Werror off here: GCC 12 at -O3 reports a false -Wrestrict in std::string code (lib/util/duration.cpp).
LLMD_BUILD_DIR="$root/build-release" "$root/scripts/build.sh" -DCMAKE_BUILD_TYPE=Release -DLLMD_BUILD_TESTS=OFF \
  -DLLMD_WARNINGS_AS_ERRORS=OFF >&2
bin="$root/build-release/llmd-bench"
# BENCH_BASELINE="REV...": earlier revisions' clients, measured beside this one in part 2. Machines here differ
# by up to 2x from one day to the next (the floor's events per CPU-second ranged 70-163 k over two days), so
# a figure quoted from an earlier day says little; the ratio of two clients run side by side says what changed.
baseline_revs=()
baseline_bins=()
baseline_commits=()
baseline_envs=()
for rev in ${BENCH_BASELINE:-}; do
  commit=$(git -C "$root" rev-parse --verify --quiet "${rev}^{commit}") ||
    { log "error: BENCH_BASELINE: $rev is not a commit of this repository (try a hash from git log)"; exit 2; }
  dir="$root/build-baseline/$commit"
  if [ ! -x "$dir/build/llmd-bench" ]; then
    log "building BENCH_BASELINE $rev ($commit) Release into build-baseline/"
    rm -rf "$dir"
    mkdir -p "$dir/src"
    git -C "$root" archive "$commit" | tar -x -C "$dir/src"
    [ -x "$dir/src/scripts/build.sh" ] || { log "error: BENCH_BASELINE: $rev has no scripts/build.sh"; exit 2; }
    # The revision's own build script, with the flags this build got above.
    LLMD_BUILD_DIR="$dir/build" "$dir/src/scripts/build.sh" -DCMAKE_BUILD_TYPE=Release -DLLMD_BUILD_TESTS=OFF \
      -DLLMD_WARNINGS_AS_ERRORS=OFF >&2
  fi
  baseline_revs+=("baseline $rev")
  baseline_bins+=("$dir/build/llmd-bench")
  baseline_commits+=("$commit")
  baseline_envs+=("LLMD_BENCH_BASELINE=$commit")
done
# BENCH_THP=1: this build again with 4 KiB pages (LLMD_BENCH_HUGE_PAGES=0) and with glibc's own huge-page
# tunable (glibc >= 2.35): what first-touch page faults cost the client (costly on VMs with shadow page
# tables; lib/util/heap_pages.hpp). Both are no-ops where the kernel's THP mode is "never".
if [ "${BENCH_THP:-}" = 1 ]; then
  for thp_env in LLMD_BENCH_HUGE_PAGES=0 GLIBC_TUNABLES=glibc.malloc.hugetlb=1; do
    baseline_revs+=("this build with $thp_env")
    baseline_bins+=("$bin")
    baseline_commits+=("$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)")
    baseline_envs+=("$thp_env")
  done
fi
if [ -n "${GLIBC_TUNABLES:-}${LLMD_BENCH_HUGE_PAGES:-}" ]; then
  log "warning: GLIBC_TUNABLES='${GLIBC_TUNABLES:-}' LLMD_BENCH_HUGE_PAGES='${LLMD_BENCH_HUGE_PAGES:-}' from your environment apply to every run here (BENCH_THP=1's side-by-side runs included)"
fi
ulimit -n "$(ulimit -Hn)"
manifest="$work/manifest.jsonl"
: >"$manifest"
cc -O2 -o "$work/rusage" "$here/rusage.c"

# note SECTION KEY=VALUE...: one manifest line for the summarizer.
note() {
  python3 -c 'import json,sys; d={"section":sys.argv[1]}; d.update(a.split("=",1) for a in sys.argv[2:]); print(json.dumps(d))' "$@" >>"$manifest"
}

# cpu_ticks PID: user+system CPU clock ticks the process has used so far (0 when it is gone).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# timed NAME CMD...: runs CMD bounded, stdout/stderr to $work/NAME.{out,err}, "wall user system max-RSS-KiB"
# to NAME.time (scripts/bench/rusage.c: GNU time's "%e %U %S %M" in microseconds instead of 10 ms steps).
# With $server_pid set, the server's CPU seconds during the run go to NAME.server_cpu_s: a server
# near 1 CPU-second per wall second was the bottleneck, not the client.
timed() {
  local name="$1"
  shift
  local start_ns server_before
  start_ns=$(date +%s%N)
  server_before=$([ -n "${server_pid:-}" ] && cpu_ticks "$server_pid" || echo 0)
  "$work/rusage" "$work/$name.time" timeout 300 "$@" >"$work/$name.out" 2>"$work/$name.err" || true
  echo $(($(date +%s%N) - start_ns)) >"$work/$name.wall_ns"
  if [ -n "${server_pid:-}" ]; then
    python3 -c "import sys; print((int(sys.argv[1]) - int(sys.argv[2])) / int(sys.argv[3]))" \
      "$(cpu_ticks "$server_pid")" "$server_before" "$(getconf CLK_TCK)" >"$work/$name.server_cpu_s"
  fi
}

# start_sim NAME ARGS...: starts `llmd-bench sim`, waits for its JSON line; sets sim_pid.
start_sim() {
  local name="$1"
  shift
  "$bin" sim "$@" >"$work/$name.json" 2>"$work/$name.log" &
  sim_pid=$!
  pids+=("$sim_pid")
  for _ in $(seq 100); do
    [ -s "$work/$name.json" ] && return 0
    sleep 0.1
  done
  log "error: sim $name did not start"; cat "$work/$name.log" >&2; exit 3
}
pod_url() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pods"][int(sys.argv[2])]["url"])' "$1" "$2"; }
stop_sim() { kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---------------------------------------------------------------- the peers' server
# peer_server: records a stream from the sim, serves it with nginx for POST (sets url, nginx_pid,
# server_pid, events) and writes $work/peers.yaml for llmd-bench.
peer_server() {
  log "peers: recording a stream from the sim"
  start_sim rec --pods 1 --time-scale 0.01
  mkdir -p "$work/www/v1"
  curl -sS -N -X POST -H 'Content-Type: application/json' --data-binary @"$here/request.json" \
    "$(pod_url "$work/rec.json" 0)/v1/completions" >"$work/www/v1/completions"
  stop_sim
  events=$(grep -c '^data: ' "$work/www/v1/completions")
  log "recorded $events SSE events, $(wc -c <"$work/www/v1/completions") bytes"
  nginx_port=$(free_port)
  sed -e "s|@WORK@|$work|g" -e "s|@PORT@|$nginx_port|g" "$here/nginx.conf.in" >"$work/nginx.conf"
  nginx -p "$work" -c "$work/nginx.conf" -e "$work/nginx-error.log" &
  nginx_pid=$!
  pids+=("$nginx_pid")
  server_pid=$nginx_pid
  url="http://127.0.0.1:$nginx_port/v1/completions"
  for _ in $(seq 50); do curl -s -o /dev/null "$url" -X POST -d x && break; sleep 0.1; done
  status=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$here/request.json" "$url")
  [ "$status" = 200 ] || { log "error: nginx answered POST with $status"; exit 3; }
  cat >"$work/peers.yaml" <<EOF
name: peers
target: {base_url: "http://127.0.0.1:$nginx_port", request_timeout: 30s}
model: meta-llama/Llama-3.2-3B-Instruct
requests:
  prompt: {kind: fixed, text: "Explain the difference between a process and a thread."}
  max_tokens: 14
cache: {source: none}
load:
  - {name: peers, executor: constant-vus, vus: $connections, duration: ${peer_seconds}s, graceful_stop: 5s}
EOF
}

# ---------------------------------------------------------------- interference (BENCH_PARTS=interference)
# Does sampling the pods every second (cache.interval) disturb the client's event loop? The same
# 1,000-stream run against the embedded simulator (4 pods, a token every 200 ms), without and with
# --cache-interval 1s; event_loop_lag p99 (how late a 5 ms probe timer was handled) of each.
interference() {
  local streams="${BENCH_INTERFERENCE_STREAMS:-1000}" seconds="${BENCH_INTERFERENCE_SECONDS:-20}" mode lag
  log "interference: $streams streams for ${seconds}s, without and with cache.interval: 1s"
  cat >"$work/interference.yaml" <<EOF
name: interference
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 256, suffix_tokens: 8}
  max_tokens: 25
load:
  - {name: streams, executor: constant-vus, vus: $streams, duration: ${seconds}s, graceful_stop: 30s}
sim:
  pods: 4
  max_num_seqs: 20000
  kv_blocks: 400000
  timing: {inter_token: 200ms, prefill_base: 20ms, prefill_per_token: 0s}
EOF
  : >"$work/interference.txt"
  for mode in off on; do
    local flags=()
    [ "$mode" = on ] && flags=(--cache-interval 1s)
    timed "interference-$mode" "$bin" run "$work/interference.yaml" -q "${flags[@]}" --out "json=$work/interference-$mode.json"
    lag=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); s=r["run"]["total"]["metrics"]["event_loop_lag_ns"]["summary"]; t=r["timeseries"]; print("p99 %.3f ms, p50 %.3f ms, max %.3f ms, %d samples" % (s["p99"]/1e6, s["p50"]/1e6, s["max"]/1e6, len(t["samples"]) if t else 0))' "$work/interference-$mode.json")
    echo "cache.interval $mode: event_loop_lag $lag" | tee -a "$work/interference.txt" >&2
  done
}
if [ "${BENCH_PARTS:-all}" = interference ]; then
  interference
  log "raw outputs kept in $work"
  exit 0
fi

# ---------------------------------------------------------------- csv (BENCH_PARTS=csv)
# `--out csv=FILE` streams one row per request to disk during the run: peak RSS must not grow with the
# request count. Runs of N and 4N requests (an embedded simulator with no delays, 32 users), each
# without and with --out csv, side by side; peak RSS (GNU time %M) and wall time of each.
csv_part() {
  local small="${BENCH_CSV_REQUESTS:-50000}" large mode n rows
  large=$((small * 4))
  : >"$work/csv.txt"
  for n in "$small" "$large"; do
    cat >"$work/csv-$n.yaml" <<EOF
name: csv-$n
requests: {prompt: {kind: fixed, text: "hello"}, max_tokens: 2}
load: [{name: requests, executor: iterations, iterations: $n, vus: 32}]
sim: {pods: 2, timing: {inter_token: 0s, prefill_base: 0s, prefill_per_token: 0s}}
EOF
    for mode in off on; do
      local flags=()
      [ "$mode" = on ] && flags=(--out "csv=$work/csv-$n.csv")
      timed "csv-$n-$mode" "$bin" run "$work/csv-$n.yaml" -q "${flags[@]}" --out "json=$work/csv-$n-$mode.json"
      read -r wall user sys rss <"$work/csv-$n-$mode.time"
      rows=$([ "$mode" = on ] && echo $(($(wc -l <"$work/csv-$n.csv") - 1)) || echo -)
      echo "requests $n csv $mode: peak RSS ${rss} KB, wall ${wall} s, cpu $(python3 -c "print(round($user+$sys,2))") s, csv rows $rows, csv bytes $([ "$mode" = on ] && stat -c %s "$work/csv-$n.csv" || echo -)" \
        | tee -a "$work/csv.txt" >&2
    done
  done
}
if [ "${BENCH_PARTS:-all}" = csv ]; then
  csv_part
  log "raw outputs kept in $work"
  exit 0
fi

# ---------------------------------------------------------------- merge (BENCH_PARTS=merge)
# Issue 16 target: merging the 16 shard results of a 10-minute run takes < 1 s. One real result (a
# short run against the embedded simulator) is copied into BENCH_MERGE_SHARDS shard files with
# BENCH_MERGE_SECONDS per-second buckets and dense histograms; `merge` of all of them is timed 3x.
merge_part() {
  local shards="${BENCH_MERGE_SHARDS:-16}" seconds="${BENCH_MERGE_SECONDS:-600}" round exit_code
  : >"$work/merge.txt"
  cat >"$work/merge.yaml" <<EOF
name: merge-bench
requests: {prompt: {kind: shared-prefix, prefix_tokens: 64, suffix_tokens: 4}, max_tokens: 8}
load: [{name: load, executor: constant-vus, vus: 4, duration: 2s}]
sim: {pods: 2}
thresholds: {ttft: ["p(95)<10s"], http_req_failed: ["rate<0.01"]}
EOF
  "$bin" run "$work/merge.yaml" -q --sim-time-scale 0.01 --out "json=$work/merge-base.json" >&2
  mkdir -p "$work/merge-shards"
  python3 "$here/merge_shards.py" "$work/merge-base.json" "$work/merge.yaml" "$shards" "$seconds" "$work/merge-shards"
  log "merge: $shards shard files, $(du -sh "$work/merge-shards" | cut -f1) in all"
  for round in 1 2 3; do
    timed "merge-$round" "$bin" merge "$work"/merge-shards/shard-*.json -q --out "json=$work/merged.json"
    read -r wall user sys rss <"$work/merge-$round.time"
    exit_code=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["exit_code"])' "$work/merged.json")
    echo "merge of $shards shards x $seconds s: wall ${wall} s (target < 1 s), cpu $(python3 -c "print(round($user+$sys,2))") s, peak RSS ${rss} KB, exit $exit_code" \
      | tee -a "$work/merge.txt" >&2
  done
}
if [ "${BENCH_PARTS:-all}" = merge ]; then
  merge_part
  log "raw outputs kept in $work"
  exit 0
fi

# ---------------------------------------------------------------- shards (BENCH_PARTS=shards)
# Issue 16 target: the same load as 4 shard processes x 250 users and as one process x 1,000 users,
# against one simulator with fixed timing: merged request count equal, merged TTFT p50/p95/p99 within
# the histogram's error of the single run's, same verdict. Side by side, twice each, alternating. Both
# client sides share this machine's cores with the simulator: what differs between them is client time.
shards_part() {
  local users="${BENCH_SHARD_USERS:-1000}" shards="${BENCH_SHARDS:-4}" round i gateway start_at
  : >"$work/shards.txt"
  cat >"$work/shards.yaml" <<EOF
name: shards-bench
requests: {prompt: {kind: shared-prefix, prefix_tokens: 200, suffix_tokens: 8}, max_tokens: 4}
load: [{name: load, executor: iterations, vus: $users, iterations: $((users * 4)), max_duration: 5m}]
thresholds: {ttft: ["p(95)<30s"], http_req_failed: ["rate<0.01"]}
EOF
  # Fixed server timing: every request's TTFT is 100 ms of prefill (no per-token part, no prefix cache, no
  # queue: max-num-seqs above the users, round-robin), then 4 tokens 100 ms apart.
  start_sim shards-sim --pods 4 --route round-robin --no-prefix-caching --max-num-seqs 2000 --prefill-base-ms 100 \
    --prefill-per-token-us 0 --inter-token-ms 100
  gateway=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["gateway"])' "$work/shards-sim.json")
  for round in 1 2; do
    timed "shards-single-$round" "$bin" run "$work/shards.yaml" --target "$gateway" -q --out "json=$work/single-$round.json"
    rm -f "$work"/shard-"$round"-*.json
    start_at=$(($(date +%s) + 3))
    local shard_pids=()
    for i in $(seq 0 $((shards - 1))); do
      "$bin" run "$work/shards.yaml" --target "$gateway" -q --shard "$i/$shards" --start-at "$start_at" \
        --out "json=$work/shard-$round-$i.json" >"$work/shard-$round-$i.out" 2>&1 &
      shard_pids+=($!)
    done
    for pid in "${shard_pids[@]}"; do wait "$pid" || true; done
    "$bin" merge "$work"/shard-"$round"-*.json -q --out "json=$work/merged-$round.json" >"$work/merge-$round.out" 2>&1 || true
    python3 - "$work/single-$round.json" "$work/merged-$round.json" <<'PYEOF2' | tee -a "$work/shards.txt" >&2
import json, sys
single, merged = (json.load(open(p)) for p in sys.argv[1:3])
def figures(r):
    t = r["run"]["total"]
    s = t["metrics"]["ttft_ns"]["summary"]
    return t["counts"]["ok"] + t["counts"]["failed"], s["p50"], s["p95"], s["p99"], r["verdict"]
a, b = figures(single), figures(merged)
print(f"requests single {a[0]} merged {b[0]}; verdict {a[4]} / {b[4]}")
for name, x, y in zip(("p50", "p95", "p99"), a[1:4], b[1:4]):
    print(f"  ttft {name}: single {x / 1e6:.2f} ms, merged {y / 1e6:.2f} ms, ratio {y / x:.4f}")
PYEOF2
  done
  stop_sim
}
if [ "${BENCH_PARTS:-all}" = shards ]; then
  shards_part
  log "raw outputs kept in $work"
  exit 0
fi

# stream_figures NAME LABEL [FILE]: one line of a streaming run's figures (events/s, client CPU per event,
# events per client CPU-second, the server's CPU share, loop lag) from $work/NAME.{json,time,server_cpu_s},
# appended to FILE (default $work/threads.txt) and printed.
stream_figures() {
  python3 - "$work/$1.json" "$work/$1.time" "$work/$1.server_cpu_s" "$2" <<'PYEOF2' | tee -a "${3:-$work/threads.txt}" >&2
import json, sys
result = json.load(open(sys.argv[1]))
wall, user, system, rss = open(sys.argv[2]).read().split()[:4]
server = float(open(sys.argv[3]).read())
total = result["run"]["total"]
events = total["output_tokens_total"]
seconds = total["wall_duration_ns"] / 1e9
cpu = float(user) + float(system)
lag = total["metrics"]["event_loop_lag_ns"]["summary"]
worst = max((t["event_loop_lag_ns"]["summary"]["p99"] or 0 for t in result["run"]["threads"]), default=lag["p99"] or 0)
print(f"{sys.argv[4]}: {events / seconds:,.0f} events/s ({events} in {seconds:.1f} s), client CPU {cpu:.1f} s = "
      f"{cpu / events * 1e6:.1f} us/event ({events / cpu:,.0f} events/CPU-s), server CPU {server:.1f} s "
      f"({server / float(wall):.2f} of a core{': saturated' if server / float(wall) > 0.9 else ''}), "
      f"loop lag p99 {(lag['p99'] or 0) / 1e6:.2f} ms (worst loop {worst / 1e6:.2f} ms), ok {total['counts']['ok']}, "
      f"failed {total['counts']['failed']}, peak RSS {int(rss) / 1024:.0f} MiB"
      + (lambda c: f", waits {c.get('waits', 0)} ({c.get('coalesced_waits', 0)} paused, longest "
                   f"{c.get('longest_pause_ns', 0) / 1e6:.1f} ms; {events / max(c.get('waits', 0), 1):.1f} events per wait)"
         if c.get("waits") else "")(result["run"].get("http_client") or {}))
PYEOF2
}

# long_stream_server STREAMS: after peer_server, records a 1,000-token stream from the sim, which nginx
# serves at /long/v1/completions, and writes $work/long.yaml: STREAMS users looping on it for 8 s. The
# events arrive back to back, so the client's parsing is the cost, not the kernel's per-event wake-ups,
# and nginx (sendfile of a static file) is not the bottleneck.
long_stream_server() {
  local streams="$1"
  start_sim long --pods 1 --time-scale 0.001
  mkdir -p "$work/www/long/v1"
  sed -e 's/"max_tokens":[0-9]*/"max_tokens":1000/' "$here/request.json" >"$work/long-request.json"
  curl -sS -N -X POST -H 'Content-Type: application/json' --data-binary @"$work/long-request.json" \
    "$(pod_url "$work/long.json" 0)/v1/completions" >"$work/www/long/v1/completions"
  stop_sim
  sed -e "s|http://127.0.0.1:$nginx_port|http://127.0.0.1:$nginx_port/long|" -e 's/max_tokens: [0-9]*/max_tokens: 1000/' \
    -e "s/vus: $connections, duration: ${peer_seconds}s/vus: $streams, duration: 8s/" "$work/peers.yaml" >"$work/long.yaml"
}

# ---------------------------------------------------------------- threads (BENCH_PARTS=threads)
# Issue 16 item 1: what a second event loop costs and carries. 1,000 streams from one process,
# --threads 1 vs --threads N, alternating, (a) against nginx serving a 1,000-event recorded stream (events
# back to back; nginx's sendfile is cheap, so the client is what limits: events/s is the figure) and
# (b) against one separate simulator process with tokens 50 ms apart (20,000 SSE events/s asked for; the
# scenario sets the pace and the simulator, one io thread at ~35 us of CPU per event through its gateway,
# takes most of a core: client CPU per event at the same rate is the figure). An event is an output
# token (one SSE event each). threads_ratio says which limit applied.
threads_part() {
  local streams="${BENCH_THREAD_STREAMS:-1000}" seconds="${BENCH_THREAD_SECONDS:-15}" threads="${BENCH_THREADS:-2}" round n gateway
  : >"$work/threads.txt"
  cat >"$work/threads.yaml" <<EOF
name: threads-bench
requests: {prompt: {kind: shared-prefix, prefix_tokens: 64, suffix_tokens: 8}, max_tokens: ${BENCH_THREAD_TOKENS:-100}}
load: [{name: streams, executor: constant-vus, vus: $streams, duration: ${seconds}s, graceful_stop: 30s}]
EOF
  # (a) nginx serving 1,000-event streams back to back: a server that is not the bottleneck.
  peer_server
  long_stream_server "$streams"
  server_pid=$nginx_pid
  for round in 1 2; do
    for n in 1 "$threads"; do
      timed "threads-nginx-$n-$round" "$bin" run "$work/long.yaml" -q --threads "$n" \
        --out "json=$work/threads-nginx-$n-$round.json"
      stream_figures "threads-nginx-$n-$round" "nginx, $streams streams of 1,000 events, threads $n"
    done
  done
  threads_ratio threads-nginx "$threads" "nginx, 1,000-event streams"
  kill "$nginx_pid" 2>/dev/null || true
  # (b) the simulator, tokens 50 ms apart: one event per wake-up, and the simulator takes a core.
  start_sim threads-sim --pods 4 --route round-robin --max-num-seqs 20000 --kv-blocks 400000 --prefill-base-ms 10 \
    --prefill-per-token-us 0 --inter-token-ms "${BENCH_THREAD_INTER_TOKEN_MS:-50}"
  gateway=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["gateway"])' "$work/threads-sim.json")
  server_pid=$sim_pid
  for round in 1 2; do
    for n in 1 "$threads"; do
      timed "threads-sim-$n-$round" "$bin" run "$work/threads.yaml" --target "$gateway" -q --threads "$n" \
        --out "json=$work/threads-sim-$n-$round.json"
      stream_figures "threads-sim-$n-$round" "simulator, $streams streams, tokens ${BENCH_THREAD_INTER_TOKEN_MS:-50} ms apart, threads $n"
    done
  done
  threads_ratio threads-sim "$threads" "simulator, tokens ${BENCH_THREAD_INTER_TOKEN_MS:-50} ms apart"
  server_pid=
  stop_sim
}

# threads_ratio PREFIX N LABEL: --threads N against --threads 1 over the rounds of PREFIX-{1,N}-{1,2}: the
# events/s ratio (target >= 1.7) and the client-CPU-per-event ratio (target <= 1.1 where the server took a
# core), and which limit applied, appended to $work/threads.txt.
threads_ratio() {
  python3 - "$work" "$1" "$2" "$3" <<'PYEOF2' | tee -a "$work/threads.txt" >&2
import json, os, sys
work, prefix, n, label = sys.argv[1:5]
def figures(threads):
    rates, per_event, server_share, client_share = [], [], [], []
    for r in (1, 2):
        name = f"{work}/{prefix}-{threads}-{r}"
        total = json.load(open(name + ".json"))["run"]["total"]
        wall, user, system = (float(x) for x in open(name + ".time").read().split()[:3])
        events = total["output_tokens_total"]
        rates.append(events / (total["wall_duration_ns"] / 1e9))
        per_event.append((user + system) / events * 1e6)
        server_share.append(float(open(name + ".server_cpu_s").read()) / wall)
        client_share.append((user + system) / wall)
    return sum(rates) / 2, sum(per_event) / 2, max(server_share), max(client_share)
one, many = figures(1), figures(n)
cores = os.cpu_count()
used = f"client {many[3]:.2f} + server {many[2]:.2f} cores of {cores}"
if many[2] + many[3] > 0.9 * cores:
    limit = f"the machine's cores ({used}): events/s is the figure"
elif many[2] > 0.9:
    limit = f"the server ({used}): client CPU per event is the figure"
else:
    limit = f"the scenario's pace ({used}): client CPU per event is the figure"
print(f"{label}: threads {n} vs 1: {many[0] / one[0]:.2f} x events/s ({many[0]:,.0f} vs {one[0]:,.0f}), "
      f"{many[1] / one[1]:.2f} x client CPU per event ({many[1]:.2f} vs {one[1]:.2f} us); limit: {limit}")
PYEOF2
}
if [ "${BENCH_PARTS:-all}" = threads ]; then
  threads_part
  log "raw outputs kept in $work"
  exit 0
fi

# ---------------------------------------------------------------- burst (BENCH_PARTS=burst)
# Issue 16 target: 1,000 requests started together should add little to their TTFT (stamped client-added
# p99 <= 2 ms). Every request's server time is fixed (100 ms prefill, no cache, no queue); the simulator
# stamps each event with its send time (--stamp-events), so the report splits TTFT into the server's
# 100 ms, the client-added part (stamp to receipt) and the rest (the request's way to the server: the
# client's start-up of the burst and the simulator accepting it). Legs, alternating, two rounds:
#   pod            straight to one pod, built-in client: stamp to receipt is loopback and the client;
#   pod-curl       the same with --http-engine curl (its receive time is the clock after the read);
#   gateway        through the simulator's gateway, whose one thread relays the burst: stamp to receipt
#                  then holds the relay, which is the server's part, not the client's.
burst_part() {
  local users="${BENCH_BURST_USERS:-1000}" round gateway pod leg url engine
  : >"$work/burst.txt"
  cat >"$work/burst.yaml" <<EOF
name: burst
requests: {prompt: {kind: shared-prefix, prefix_tokens: 64, suffix_tokens: 8}, max_tokens: 4}
load: [{name: burst, executor: iterations, vus: $users, iterations: $users, max_duration: 1m}]
EOF
  start_sim burst-sim --pods 4 --route round-robin --no-prefix-caching --max-num-seqs 20000 --kv-blocks 400000 \
    --prefill-base-ms 100 --prefill-per-token-us 0 --inter-token-ms 20 --stamp-events
  gateway=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["gateway"])' "$work/burst-sim.json")
  pod=$(pod_url "$work/burst-sim.json" 0)
  for round in 1 2; do
    for leg in pod pod-curl gateway; do
      url=$pod engine=auto
      [ "$leg" = pod-curl ] && engine=curl
      [ "$leg" = gateway ] && url=$gateway
      timed "burst-$leg-$round" "$bin" run "$work/burst.yaml" --target "$url" --http-engine "$engine" -q \
        --out "json=$work/burst-$leg-$round.json"
      python3 - "$work/burst-$leg-$round.json" "$leg" <<'PYEOF2' | tee -a "$work/burst.txt" >&2
import json, sys
run = json.load(open(sys.argv[1]))["run"]
metrics = run["total"]["metrics"]
ttft, added = (metrics[k]["summary"] for k in ("ttft_ns", "ttft_client_added_ns"))
client = run["http_client"]
stamped = f"kernel stamps on {client['kernel_stamped_reads']} of {client['reads']} reads" if client.get("reads") else "clock after each read"
print(f"burst of {ttft['count']} ({sys.argv[2]}, {client['name']}, {stamped}): ttft p50 {ttft['p50'] / 1e6:.1f} ms, "
      f"p99 {ttft['p99'] / 1e6:.1f} ms (server: 100 ms); stamp-to-receipt p50 {added['p50'] / 1e6:.2f} ms, "
      f"p99 {added['p99'] / 1e6:.2f} ms")
PYEOF2
    done
  done
  stop_sim
}
if [ "${BENCH_PARTS:-all}" = burst ]; then
  burst_part
  log "raw outputs kept in $work"
  exit 0
fi

# ---------------------------------------------------------------- http (BENCH_PARTS=http)
# Issue 16 items 5 and 6: the built-in HTTP/1.1 client (--http-engine auto) against libcurl's transfers
# (--http-engine curl), side by side, alternating:
#  (a) peers: wrk and llmd-bench both ways on nginx's recorded stream (64 connections, one client thread):
#      req/s and client CPU per request;
#  (b) 1,000 streams of 1,000 events each from nginx (the whole recorded stream at once: events arrive
#      back to back, so the client's parsing is the cost, not the kernel's per-event wake-ups);
#  (c) 1,000 streams of tokens 50 ms apart against a separate simulator: events/s, client CPU per
#      event and events per client CPU-second, the built-in client with wake-ups coalesced (the
#      default) and not (--coalesce off: about one event per wake-up), and libcurl.
# Kept in $work/http.txt.
http_part() {
  local round engine gateway streams="${BENCH_THREAD_STREAMS:-1000}" seconds="${BENCH_THREAD_SECONDS:-15}"
  : >"$work/http.txt"
  peer_server
  for round in $(seq "$rounds"); do
    BENCH_BODY="$here/request.json" timed "http-wrk-$round" wrk -t1 -c"$connections" -d"${peer_seconds}s" -s "$here/post.lua" "$url"
    for engine in auto curl; do
      timed "http-peers-$engine-$round" "$bin" run "$work/peers.yaml" -q --http-engine "$engine" \
        --out "json=$work/http-peers-$engine-$round.json"
    done
  done
  python3 - "$work" "$rounds" <<'PYEOF3' | tee -a "$work/http.txt" >&2
import json, re, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def usage(name):
    wall, user, system, rss = open(f"{work}/{name}.time").read().split()[:4]
    return float(wall), float(user) + float(system)
rows = {}
for r in range(1, rounds + 1):
    text = open(f"{work}/http-wrk-{r}.out").read()
    wall, cpu = usage(f"http-wrk-{r}")
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    rows.setdefault("wrk", []).append((float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)), cpu * 1e6 / requests))
    for engine in ("auto", "curl"):
        name = f"http-peers-{engine}-{r}"
        total = json.load(open(f"{work}/{name}.json"))["run"]["total"]
        wall, cpu = usage(name)
        ok = total["counts"]["ok"]
        rows.setdefault(f"llmd-bench {engine}", []).append((ok / (total["wall_duration_ns"] / 1e9), cpu * 1e6 / ok))
wrk_rate = sum(r for r, _ in rows["wrk"]) / len(rows["wrk"])
wrk_cpu = sum(c for _, c in rows["wrk"]) / len(rows["wrk"])
for tool, values in rows.items():
    rate = sum(r for r, _ in values) / len(values)
    cpu = sum(c for _, c in values) / len(values)
    print(f"peers {tool}: {rate:,.0f} req/s ({rate / wrk_rate:.2f} x wrk), client CPU {cpu:.1f} us/request "
          f"({cpu / wrk_cpu:.2f} x wrk); rounds: " + ", ".join(f"{r:,.0f}" for r, _ in values))
PYEOF3
  long_stream_server "$streams"
  for round in 1 2; do
    for engine in auto curl; do
      timed "http-long-$engine-$round" "$bin" run "$work/long.yaml" -q --http-engine "$engine" \
        --out "json=$work/http-long-$engine-$round.json"
      stream_figures "http-long-$engine-$round" "$streams streams of 1,000 events from nginx, --http-engine $engine" \
        "$work/http.txt"
    done
  done
  kill "$nginx_pid" 2>/dev/null || true
  server_pid=
  cat >"$work/http-streams.yaml" <<EOF
name: http-streams
requests: {prompt: {kind: shared-prefix, prefix_tokens: 64, suffix_tokens: 8}, max_tokens: ${BENCH_THREAD_TOKENS:-100}}
load: [{name: streams, executor: constant-vus, vus: $streams, duration: ${seconds}s, graceful_stop: 30s}]
EOF
  start_sim http-sim --pods 4 --route round-robin --max-num-seqs 20000 --kv-blocks 400000 --prefill-base-ms 10 \
    --prefill-per-token-us 0 --inter-token-ms "${BENCH_THREAD_INTER_TOKEN_MS:-50}"
  gateway=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["gateway"])' "$work/http-sim.json")
  server_pid=$sim_pid
  local leg
  for round in 1 2; do
    # engine:coalesce. The built-in client coalesces wake-ups by default (engine.coalesce auto: a tenth
    # of the median inter-token gap, here 5 ms); `off` shows what one wake-up per event costs.
    for leg in auto:auto auto:off curl:auto; do
      engine=${leg%%:*}
      timed "http-streams-${leg/:/-}-$round" "$bin" run "$work/http-streams.yaml" --target "$gateway" -q \
        --http-engine "$engine" --coalesce "${leg##*:}" --out "json=$work/http-streams-${leg/:/-}-$round.json"
      stream_figures "http-streams-${leg/:/-}-$round" "$streams streams, --http-engine $engine --coalesce ${leg##*:}" \
        "$work/http.txt"
    done
  done
  server_pid=
  stop_sim
}
if [ "${BENCH_PARTS:-all}" = http ]; then
  http_part
  log "raw outputs kept in $work"
  exit 0
fi

# ---------------------------------------------------------------- 1. peers
if [ "${BENCH_PARTS:-all}" != concurrency ]; then  # BENCH_PARTS=concurrency: part 2 alone
log "1/4 peers"
peer_server
note peers_meta events="$events" connections="$connections" seconds="$peer_seconds" \
  body_bytes="$(wc -c <"$work/www/v1/completions")"
for round in $(seq "$rounds"); do
  log "peers round $round/$rounds: wrk, h2load, hey, llmd-bench ($connections connections, ${peer_seconds}s each)"
  BENCH_BODY="$here/request.json" timed "wrk-$round" wrk -t1 -c"$connections" -d"${peer_seconds}s" -s "$here/post.lua" "$url"
  note peers tool=wrk round="$round" name="wrk-$round"
  timed "h2load-$round" h2load --h1 -t1 -c"$connections" -m1 -D "$peer_seconds" -d "$here/request.json" \
    -H 'Content-Type: application/json' "$url"
  note peers tool=h2load round="$round" name="h2load-$round"
  GOMAXPROCS=1 timed "hey-$round" hey -z "${peer_seconds}s" -c "$connections" -m POST -T application/json \
    -D "$here/request.json" "$url"
  note peers tool=hey round="$round" name="hey-$round"
  timed "llmd-$round" "$bin" run "$work/peers.yaml" -q --out "json=$work/llmd-$round.json"
  note peers tool=llmd-bench round="$round" name="llmd-$round"
  timed "llmdcurl-$round" "$bin" run "$work/peers.yaml" -q --http-engine curl --out "json=$work/llmdcurl-$round.json"
  note peers tool=llmd-bench-curl round="$round" name="llmdcurl-$round"
done
kill "$nginx_pid" 2>/dev/null || true
server_pid=""
fi

# ---------------------------------------------------------------- 2. concurrency and timing truth
# One pod (each stream costs the sim 1 fd straight to a pod; 3 through the gateway): 25 tokens,
# one every 500 ms (~12 s per stream). The N streams start at a constant rate over max(2 s, N/2000 s)
# (open loop, exactly N arrivals, max_in_flight N), so their token phases are spread over the 500 ms
# period, as independent users' would be, and all N are open at once until ~12 s (peak_in_flight).
# BENCH_STREAM_START=burst starts all N at once instead (synchronized tokens: the worst case).
log "2/4 concurrency: $stream_counts concurrent streams against one stamped sim pod"
start_sim conc --pods 1 --stamp-events --max-num-seqs 20000 --kv-blocks 400000 --inter-token-ms 500 \
  --prefill-base-ms 20 --prefill-per-token-us 0
conc_url="$(pod_url "$work/conc.json" 0)"
# stream_ramp N: "SECONDS RATE" over which the N streams start: exactly N arrivals (rate x duration = N).
stream_ramp() {
  local n="$1" ramp_s
  ramp_s=$(((n + 1999) / 2000))
  [ "$ramp_s" -ge 2 ] || ramp_s=2
  echo "$ramp_s $(python3 -c "print($n / $ramp_s)")"
}
# streams_yaml N TOKENS: the scenario of N such streams of TOKENS tokens each.
streams_yaml() {
  local n="$1" tokens="$2" ramp_s rate
  read -r ramp_s rate <<<"$(stream_ramp "$n")"
  cat <<EOF
name: streams-$n
target: {base_url: "$conc_url", connect_timeout: 30s, request_timeout: 120s}
requests:
  prompt: {kind: fixed, text: "hold this stream open"}
  max_tokens: $tokens
cache: {source: none}
load:
$(if [ "${BENCH_STREAM_START:-spread}" = burst ]; then
    echo "  - {name: streams-$n, executor: iterations, iterations: $n, vus: $n, max_duration: 90s}"
  else
    echo "  - {name: streams-$n, executor: constant-arrival-rate, rate: $rate, duration: ${ramp_s}s, max_in_flight: $n, graceful_stop: 60s}"
  fi)
EOF
}
# Each count runs twice side by side: 25 tokens, then 1 token (same connections, requests, headers,
# usage chunk and [DONE], 24 fewer token events per stream). The difference is what the events alone
# cost: the summary's "marginal" events per CPU-second, beside the all-in figure that includes
# opening the N connections (on loopback the client's connect() also runs the server's half of the
# TCP handshake) and the process itself.
# Beside each run, the floor: scripts/bench/floor_client.c sends the same request on the same schedule
# (and the same 5 ms read pause as the engine's) and only recv()s until the end of each response, counting
# "data:" lines: no parsing, clocks or histograms. Its CPU is what the kernel and one epoll loop cost for
# these streams; llmd-bench's CPU over it is the client's own work.
cc -O2 -o "$work/floor_client" "$here/floor_client.c"
conc_port="${conc_url##*:}"
conc_model="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["model"])' "$work/conc.json")"
# floor_run N TOKENS NAME ROLE: the floor client for N streams of TOKENS tokens; its JSON to $work/NAME.json.
# ROLE: "run" beside the N-stream run, "one_token_run" beside its 1-token run.
floor_run() {
  local n="$1" tokens="$2" name="$3" role="$4" rate
  read -r _ rate <<<"$(stream_ramp "$n")"
  # BENCH_STREAM_START=burst: the run starts all N at once, so does the floor.
  [ "${BENCH_STREAM_START:-spread}" != burst ] || rate=1000000000
  python3 -c 'import json,sys; json.dump({"model": sys.argv[1], "prompt": "hold this stream open", "max_tokens": int(sys.argv[2]),
    "stream": True, "stream_options": {"include_usage": True}}, open(sys.argv[3], "w"))' "$conc_model" "$tokens" "$work/$name.body"
  timeout 300 "$work/floor_client" 127.0.0.1 "$conc_port" /v1/completions "$work/$name.body" "$n" "$rate" 5000 \
    >"$work/$name.json" 2>"$work/$name.err" || true
  note concurrency_floor streams="$n" tokens="$tokens" name="$name" role="$role"
}
for n in $stream_counts; do
  streams_yaml "$n" 25 >"$work/streams-$n.yaml"
  timed "streams-$n" "$bin" run "$work/streams-$n.yaml" -q --out "json=$work/streams-$n.json"
  note concurrency streams="$n" name="streams-$n" start="${BENCH_STREAM_START:-spread}"
  # Each baseline: the same scenario file against the same pod, straight after; only the client differs.
  for i in "${!baseline_bins[@]}"; do
    timed "streams-$n-baseline-$i" env "${baseline_envs[$i]}" "${baseline_bins[$i]}" run "$work/streams-$n.yaml" -q --out "json=$work/streams-$n-baseline-$i.json"
    note concurrency_baseline streams="$n" name="streams-$n-baseline-$i" rev="${baseline_revs[$i]}" commit="${baseline_commits[$i]}"
  done
  floor_run "$n" 25 "floor-$n" run
  streams_yaml "$n" 1 >"$work/streams-$n-1tok.yaml"
  timed "streams-$n-1tok" "$bin" run "$work/streams-$n-1tok.yaml" -q --out "json=$work/streams-$n-1tok.json"
  note concurrency_base streams="$n" name="streams-$n-1tok"
  floor_run "$n" 1 "floor-$n-1tok" one_token_run
done
stop_sim
if [ "${BENCH_PARTS:-all}" = concurrency ]; then
  python3 "$here/summarize.py" "$work" "$manifest" "$out"
  log "raw outputs kept in $work"
  exit 0
fi

# ---------------------------------------------------------------- 3. open loop
log "3/4 open loop: constant-arrival-rate 100, 400, 800 req/s, 5 s each"
start_sim open --pods 1 --max-num-seqs 4000 --inter-token-ms 1 --prefill-base-ms 2 --prefill-per-token-us 0
cat >"$work/open.yaml" <<EOF
name: open-loop
target: {base_url: "$(pod_url "$work/open.json" 0)"}
requests:
  prompt: {kind: fixed, text: "open loop request"}
  max_tokens: 16
cache: {source: none}
load:
  - {name: rate-100, executor: constant-arrival-rate, rate: 100, duration: 5s, max_in_flight: 2000, graceful_stop: 5s}
  - {name: rate-400, executor: constant-arrival-rate, rate: 400, duration: 5s, max_in_flight: 2000, graceful_stop: 5s}
  - {name: rate-800, executor: constant-arrival-rate, rate: 800, duration: 5s, max_in_flight: 2000, graceful_stop: 5s}
EOF
timed open "$bin" run "$work/open.yaml" -q --out "json=$work/open-result.json"
note open_loop name=open result="$work/open-result.json" phase_seconds=5
stop_sim

# ---------------------------------------------------------------- 4. scrape
log "4/4 scrape: 100 x 50 KB dumps parsed; 100-pod parallel scrape of the sim"
start_sim scrape --pods 100
urls=()
for i in $(seq 0 99); do urls+=(--url "$(pod_url "$work/scrape.json" "$i")/metrics"); done
curl -s "$(pod_url "$work/scrape.json" 0)/metrics" >"$work/one-pod.prom"
python3 "$here/make_metrics.py" "$work/one-pod.prom" "$work/dumps" 100 50 >&2
mkdir -p "$work/dump1" && cp "$work/dumps/pod-000.prom" "$work/dump1/"
timed scrape-files-1 "$bin" scrape --files "$work/dump1" --json
timed scrape-files-100 "$bin" scrape --files "$work/dumps" --json
timed scrape-urls-100 "$bin" scrape "${urls[@]}" --json
note scrape name=scrape dumps="$work/dumps"
stop_sim

python3 "$here/summarize.py" "$work" "$manifest" "$out"
log "raw outputs kept in $work"
