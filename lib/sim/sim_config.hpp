#pragma once
// Settings of `llmd-bench sim` (and of the embedded simulator `run` starts). Every default here
// is the one the CLI help shows (cli/sim_command.cpp reads them from a default-constructed
// SimConfig, so help text and behaviour cannot drift apart).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/metrics_exporter.hpp"
#include "util/result.hpp"

namespace llmd::sim {

// How the gateway picks a pod for a request.
enum class RoutePolicy {
  prefix,        // prefix-cache-aware: longest matching block prefix (llm-d prefix scorer), ties -> least loaded, then random
  session,       // sticky by x-session-id header, else client address, with an idle timeout (ClientIP affinity)
  round_robin,   // pods in turn
  random,        // uniformly random pod
  least_loaded,  // fewest in-flight requests, ties -> random
};

// "prefix" | "session" | "round-robin" | "random" | "least-loaded"; the error lists the choices.
util::Result<RoutePolicy> parse_route_policy(std::string_view text);
std::string_view to_string(RoutePolicy policy);

// The timing model of one pod. TTFT = queue wait + prefill_base_ms + prefill_per_token_us x
// UNCACHED prompt tokens; then one output token every inter_token_ms. Every delay is multiplied
// by time_scale (0.01 makes a 10 ms token interval 100 us), so tests run fast.
struct PodTiming {
  double prefill_base_ms = 2.0;
  double prefill_per_token_us = 40.0;  // 1,000 uncached tokens -> 40 ms
  double inter_token_ms = 10.0;
  double time_scale = 1.0;
};

struct PodSettings {
  std::string model = "meta-llama/Llama-3.2-3B-Instruct";  // served model name (vLLM --served-model-name)
  std::size_t block_size_tokens = 16;                      // vLLM --block-size
  std::size_t kv_blocks = 16384;                           // KV pool size in blocks (num_gpu_blocks)
  bool enable_prefix_caching = true;                       // false: as vLLM --no-enable-prefix-caching / ARM CPU
  std::size_t max_num_seqs = 256;                          // concurrently running requests; the rest wait
  std::size_t max_model_len = 32768;                       // prompt + max_tokens limit, in tokens
  std::size_t default_max_tokens = 16;                     // completions without max_tokens (vLLM: 16); chat
                                                           // without it: max_model_len - prompt tokens
  MetricsFlavor metrics_flavor = MetricsFlavor::v0_11;
  PodTiming timing;
  double error_rate = 0.0;   // fraction of generation requests answered with HTTP 500
  double abort_rate = 0.0;   // fraction of streams cut mid-way (connection closed before [DONE])
  double restart_downtime_s = 0.0;  // after a restart, answer 503 for this long (before time_scale)
  // Prefix every streamed SSE event with `: llmd-sent-ns=<N>\n`, N = CLOCK_MONOTONIC ns right before
  // the write, so a client on the same machine can measure the delay it adds (timing truth).
  bool stamp_events = false;
  // vLLM --enable-prompt-tokens-details: usage carries "prompt_tokens_details":{"cached_tokens":N},
  // N = the request's prompt tokens found in the prefix cache (what the pod adds to its hits counter).
  bool prompt_tokens_details = false;
  // As vLLM started with VLLM_SERVER_DEV_MODE=1: the pod serves POST /reset_prefix_cache. Off
  // (--no-dev-mode, sim.dev_mode: false) it answers 404 {"detail":"Not Found"} there, as vLLM does.
  bool dev_mode = true;
  // The tokenizer's piece length (sim/tokenizer.hpp, 1..8): 8 counts every generated word as one
  // token, as the prompt generators assume; below 8 longer words split into several tokens, a
  // tokenizer that differs from the generator's (--tokenizer-piece-bytes, sim.tokenizer_piece_bytes).
  std::size_t tokenizer_piece_bytes = 8;
};

struct SimConfig {
  std::size_t pods = 4;
  std::string bind_address = "127.0.0.1";
  std::uint16_t gateway_port = 0;    // 0 = ephemeral
  std::uint16_t first_pod_port = 0;  // 0 = every pod ephemeral; else pods use first_pod_port + i
  std::string host;                  // required Host header at the gateway ("" = any host)
  // Like the llm-d / Gateway API Inference Extension endpoint picker, the gateway answers 400
  // "model not found in request body" to a completion or chat POST without a "model" string.
  // false (--gateway-allow-no-model): pass it to a pod, which serves its model (plain vLLM).
  bool gateway_requires_model = true;
  // The gateway adds `x-gateway-destination-endpoint-served: <pod address:port>` to each response it
  // relays: the endpoint-picker protocol's header, which a real gateway sends to clients only when
  // told to (Envoy response_headers_to_add %UPSTREAM_HOST%). `run` attributes requests to pods with
  // it (target.served_by_header). false (--no-endpoint-header, sim.endpoint_header: false): a gateway
  // that does not tell.
  bool endpoint_header = true;
  RoutePolicy route = RoutePolicy::prefix;
  double session_timeout_s = 10800;  // session affinity idle timeout (Kubernetes ClientIP default)
  // route session: the request header whose value keys the session (lowercase; the embedded simulator
  // of `run` takes the scenario's requests.prompt.session_header)
  std::string session_header = "x-session-id";
  std::size_t prefix_index_blocks = 1u << 20;  // gateway prefix index capacity (block hashes)
  std::uint64_t seed = 1;            // random routing, error/abort injection
  PodSettings pod;
  // Pods (by index) that run with prefix caching off while the others keep it, e.g. one pod on an
  // ARM CPU backend where vLLM disables it.
  std::vector<std::size_t> pods_without_prefix_caching;
};

// The accepted range of each setting, shared by the `llmd-bench sim` flags (their help shows it) and
// the scenario's `sim` keys (scenarios/README.md). Sized from memory: a KV block is 40 bytes of
// bookkeeping preallocated per pod (~90 once cached); a gateway prefix-index entry ~100 bytes.
struct CountRange {
  std::uint64_t min;
  std::uint64_t max;
};
struct RealRange {
  double min;
  double max;
};
inline constexpr CountRange k_pods_range{1, 1024};
inline constexpr CountRange k_block_size_range{1, 4096};  // vLLM's are 1-128; hybrid models' a few hundred
// 1,048,576 blocks (16M tokens at block size 16, ~30x what an 80 GB GPU holds for an 8B model): 40 MiB a pod.
inline constexpr CountRange k_kv_blocks_range{1, std::uint64_t{1} << 20};
// pods x kv_blocks: 16,777,216 blocks (1,024 pods at the default 16,384), 640 MiB preallocated.
inline constexpr std::uint64_t k_max_kv_blocks_total = std::uint64_t{1} << 24;
inline constexpr CountRange k_prefix_index_blocks_range{1, std::uint64_t{1} << 22};  // 4x the default, ~400 MB full
inline constexpr CountRange k_max_num_seqs_range{1, 100'000};  // llmd-bench's own concurrency limit
inline constexpr CountRange k_tokenizer_piece_bytes_range{1, 8};  // sim/tokenizer.hpp k_max_piece_bytes
inline constexpr CountRange k_max_model_len_range{1, std::uint64_t{1} << 20};       // 1M tokens
inline constexpr CountRange k_default_max_tokens_range{1, std::uint64_t{1} << 20};  // 1M tokens
// Delays before time_scale, in the flags' units. With max_model_len tokens at the largest
// per-token prefill and the largest time_scale, a prefill stays under 9.2e18 ns (the clock).
inline constexpr RealRange k_prefill_base_ms_range{0, 3'600'000};        // 1 h
inline constexpr RealRange k_prefill_per_token_us_range{0, 1'000'000};   // 1 s a token
inline constexpr RealRange k_inter_token_ms_range{0, 3'600'000};         // 1 h
inline constexpr RealRange k_restart_downtime_s_range{0, 3600};          // 1 h
inline constexpr RealRange k_session_timeout_s_range{0, 30 * 24 * 3600};  // 30 days
inline constexpr RealRange k_time_scale_range{1e-6, 1000};
inline constexpr RealRange k_fault_rate_range{0, 1};  // error_rate, abort_rate

// The settings validate() checks. The simulator names each by its key (setting_key); the layer that
// knows where a value came from names it for the user through validate's `name`: `llmd-bench sim` by
// its flag (--kv-blocks), `run` by its --sim-* flag or the scenario's sim: key, the scenario loader
// by key under its file:line.
enum class Setting {
  pods, block_size, kv_blocks, prefix_index_blocks, max_num_seqs, max_model_len, default_max_tokens,
  time_scale, error_rate, abort_rate, prefill_base, prefill_per_token, inter_token, restart_downtime,
  session_timeout, first_pod_port, no_prefix_caching_pods, model, session_header, tokenizer_piece_bytes,
};
// The key of the scenario's sim: section ("kv_blocks", "timing.time_scale"; "no_prefix_caching_pods":
// the field of SimConfig, which only flags set).
std::string_view setting_key(Setting setting);
using SettingName = std::function<std::string(Setting)>;

// Checks every setting against its range above, pods x kv_blocks, the pod ports, the pods without
// prefix caching; the error names the setting as `name` does and the bound ("kv_blocks: must be <=
// 1048576, got 1000000000"; with sim's flags: "--kv-blocks: ...").
util::Result<void> validate(const SimConfig& config, const SettingName& name);
util::Result<void> validate(const SimConfig& config);  // named by setting_key

}  // namespace llmd::sim
