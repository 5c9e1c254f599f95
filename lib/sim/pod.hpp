#pragma once
// One simulated vLLM pod: an OpenAI-compatible server with vLLM V1-style scheduling (FCFS waiting
// queue, at most max_num_seqs running, KV blocks from the prefix cache), the TTFT/ITL timing
// model of PodTiming, /metrics in vLLM's names, fault injection and restarts.
//
// Endpoints: POST /v1/completions, POST /v1/chat/completions, GET /v1/models, GET /health,
// GET /metrics, POST /tokenize, POST /detokenize, POST /reset_prefix_cache (dev mode only, as vLLM
// with VLLM_SERVER_DEV_MODE=1), and the simulator's own POST /admin/restart, GET /admin/state.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <unordered_set>

#include <nlohmann/json_fwd.hpp>

#include "sim/http_server.hpp"
#include "sim/metrics_exporter.hpp"
#include "sim/openai_api.hpp"
#include "sim/prefix_cache.hpp"
#include "sim/sim_config.hpp"
#include "sim/tokenizer.hpp"

namespace llmd::sim {

class Pod {
 public:
  using Clock = std::chrono::steady_clock;

  // `vocabulary`: the fleet's, shared by its pods (/detokenize knows what any pod tokenized); nullptr:
  // the pod keeps its own. Must outlive the pod.
  Pod(net::io_context& io, std::size_t index, PodSettings settings, std::uint64_t seed, Vocabulary* vocabulary = nullptr);
  Pod(const Pod&) = delete;
  Pod& operator=(const Pod&) = delete;
  ~Pod();

  util::Result<void> listen(const std::string& address, std::uint16_t port);
  void start();
  void stop();

  std::size_t index() const { return m_index; }
  const std::string& name() const { return m_name; }
  std::uint16_t port() const { return m_server.port(); }
  const PodSettings& settings() const { return m_settings; }

  // As after `kubectl delete pod`: in-flight requests are cut, the KV cache and every counter
  // start from zero, and for restart_downtime_s the pod answers 503.
  void restart();
  std::uint64_t restarts() const { return m_restarts; }

  // POST /reset_prefix_cache: drops every cached block, counters untouched, as vLLM's
  // reset_prefix_cache. Like vLLM it refuses (returns false, changes nothing) while requests hold
  // blocks; vLLM's API server answers 200 all the same ("we currently do not check if the prefix
  // cache is successfully reset"), and so does the pod.
  bool reset_prefix_cache();
  std::uint64_t prefix_cache_resets() const { return m_prefix_cache_resets; }

  // Requests this pod holds now (running + waiting).
  std::size_t in_flight() const { return m_running.size() + m_waiting.size(); }
  const PodMetrics& metrics() const { return m_metrics; }
  const PrefixCache& cache() const { return m_cache; }
  std::string render_metrics() const;
  // The pod's counters as JSON (GET /admin/state).
  nlohmann::json state() const;

 private:
  struct Job;

  net::awaitable<bool> handle(Request& request, Connection& connection);
  net::awaitable<bool> handle_generation(Api api, Request& request, Connection& connection);
  net::awaitable<bool> stream_tokens(std::shared_ptr<Job> job, const GenerationRequest& request, Request& http_request);
  // Sleeps until `when`; false when the pod restarted or stopped meanwhile (the job is void).
  net::awaitable<bool> sleep_until(const std::shared_ptr<Job>& job, Clock::time_point when);
  net::awaitable<bool> send_error(Request& request, Connection& connection, const ApiError& error);
  // POST /tokenize, /detokenize, /reset_prefix_cache (`path` is one of them).
  net::awaitable<bool> handle_tokenizer(std::string_view path, Request& request, Connection& connection);
  // Admits waiting requests while slots and KV blocks allow. `freed_at`: the model time the capacity that
  // lets them in became free (now on an arrival; a finished request's scheduled end, see finish()).
  void schedule(Clock::time_point freed_at);
  void admit(Job& job, const PrefixCache::Allocation& allocation, Clock::time_point admitted_at);
  // `ended_at`: when the request ended in the timing model (its last token's scheduled time), or now when it
  // was cut. The requests it lets in start from there, so the pod's capacity is the model's and not the
  // host's: a late timer on a busy machine delays the bytes, not every request after it.
  void finish(const std::shared_ptr<Job>& job, const char* reason, Clock::time_point ended_at);
  // usage.prompt_tokens_details.cached_tokens of the job's answer; nullopt unless --prompt-tokens-details.
  std::optional<std::size_t> reported_cached_tokens(const Job& job) const;
  std::chrono::nanoseconds scaled(double microseconds) const;
  bool is_down() const;
  std::vector<std::pair<std::string, std::string>> pod_headers() const;

  net::io_context& m_io;
  std::size_t m_index;
  std::string m_name;
  PodSettings m_settings;
  HttpServer m_server;
  PrefixCache m_cache;
  PodMetrics m_metrics;
  std::mt19937_64 m_rng;
  std::uint64_t m_generation = 0;  // bumped by restart(): jobs of an older generation are void
  std::uint64_t m_restarts = 0;
  std::uint64_t m_prefix_cache_resets = 0;  // resets that cleared the cache
  std::unique_ptr<Vocabulary> m_own_vocabulary;
  Vocabulary* m_vocabulary;
  std::uint64_t m_next_request_id = 0;
  Clock::time_point m_down_until{};
  std::deque<std::shared_ptr<Job>> m_waiting;
  std::unordered_set<std::shared_ptr<Job>> m_running;
};

}  // namespace llmd::sim
