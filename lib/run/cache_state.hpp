#pragma once
// The cache-state stages of a run (scenario `cache_state:`, issue 13): make the prefix cache's state
// before the measured loop a known, verified fact.
//
//   reset   [reset: api]   every pod: a seed probe (so something is cached), POST /reset_prefix_cache
//                          (vLLM serves it only with VLLM_SERVER_DEV_MODE=1), then the same probe
//                          again, sent to that pod alone between two scrapes: its hits must be 0
//                          ("cold verified"). A 404 is the finding `reset_endpoint_missing` with the
//                          fix; any pod not cold stops the run (errors: exit 3).
//                          (reset: restart is the restart stage, pipeline.hpp.)
//   prime   [prime: true]  each distinct prefix of the workload (PromptSource::prefixes) once, through
//                          the target, one at a time, unmeasured, with the session header the workload
//                          sends with it.
//   verify  [verify: true] each prefix again as a probe, between two scrapes: the pod whose counters
//                          it moved must report hits >= the probe's full blocks below its last token,
//                          floor((prompt_tokens - 1) / block_size) * block_size (vLLM always
//                          recomputes the last token); any prefix not resident is the error finding
//                          `prefix_not_resident` naming the pods and prefixes (verdict fail, exit 1).
//
// The probes and resets go to each pod's own API (PodApi): the embedded simulator's pods, or each
// cache.urls metrics URL without its path (cache_state.pod_urls when the API is elsewhere).
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "run/run_report.hpp"
#include "scenario/scenario.hpp"
#include "scrape/snapshot.hpp"
#include "scrape/url_source.hpp"

namespace llmd::run {

struct RunState;  // stages.hpp
enum class Next;

// One answer of a pod's own API.
struct PodAnswer {
  std::string what;   // "POST http://10.0.0.5:8000/reset_prefix_cache" (for messages)
  long status = 0;    // HTTP status; 0: no answer (`error` says why)
  std::string body;
  std::string error;
};

// Requests that must reach one given pod, not the target: pods in the order of the metrics source,
// named as it names them (so a probe's counters are that pod's).
class PodApi {
 public:
  virtual ~PodApi() = default;
  virtual std::size_t size() const = 0;
  virtual const std::string& name(std::size_t pod) const = 0;
  // POST `body` (JSON; "" for none) to `path` of pod `pod`.
  virtual PodAnswer post(std::size_t pod, std::string_view path, const std::string& body) = 0;
};

// "http://10.0.0.5:8000/metrics" -> "http://10.0.0.5:8000": a metrics URL without its path, the pod's
// API base (vLLM serves /metrics on its API port). A URL without a path is kept.
std::string pod_api_base(std::string_view metrics_url);

// Pods reached at base URLs ({name, base URL}), with the run's request settings (TLS options,
// timeouts, extra headers, bearer token) and no Host header of the target's. `cancel` (Ctrl-C) gives
// a request up.
std::unique_ptr<PodApi> make_url_pod_api(std::vector<scrape::PodUrl> pods, const scenario::Scenario& scenario,
                                         std::string bearer_token, const std::atomic<bool>* cancel);

// The pods' API of this run: the embedded simulator's pods, or cache.urls (cache_state.pod_urls).
// Fails, saying what to set, for a cache source whose pods have no known API.
util::Result<std::unique_ptr<PodApi>> make_pod_api(const RunState& state);

// --- pure parts (tested without a network) ---

// "" when POST /reset_prefix_cache was accepted (2xx; a JSON {"success": false}, newer vLLM's refusal
// while blocks are held, is not), else the problem.
std::string judge_reset_answer(const PodAnswer& answer);
// The reset endpoint is missing (404): vLLM without VLLM_SERVER_DEV_MODE=1.
bool reset_endpoint_missing(const PodAnswer& answer);
// Full blocks a repeat of a prompt of `prompt_tokens` must hit: floor((prompt_tokens - 1) / block) * block.
std::uint64_t expected_hit_tokens(std::uint64_t prompt_tokens, std::size_t block_size);
// Δqueries and Δhits of pod `pod` between two snapshots (nullopt when either scrape failed or lacks them).
struct CounterDelta {
  std::uint64_t queries = 0;
  std::uint64_t hits = 0;
};
std::optional<CounterDelta> counter_delta(const std::vector<scrape::PodSnapshotResult>& before,
                                          const std::vector<scrape::PodSnapshotResult>& after, std::string_view pod);
// The block size for expected hits: cache_state.block_size, else the first pod's vllm:cache_config_info,
// else the embedded simulator's (`sim_block_size`, 0 without one). Source named in `source`.
std::optional<std::size_t> resolve_block_size(const scenario::CacheStateSpec& spec,
                                              const std::vector<scrape::PodSnapshotResult>& pods,
                                              std::size_t sim_block_size, std::string& source);
// The most virtual users a measured phase has (per-session prefixes to prime).
std::size_t max_sessions(const std::vector<scenario::Phase>& phases);

// The run's CacheStateReport (report.cache_state), made from the scenario's cache_state on first use.
CacheStateReport& cache_state_report(RunState& state);

// --- the stages ---
Next reset_cache(RunState& state);   // "reset"
Next prime_cache(RunState& state);   // "prime"
Next verify_cache(RunState& state);  // "verify"

}  // namespace llmd::run
