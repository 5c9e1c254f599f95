#include "sim/pod.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/tokenizer.hpp"
#include "util/json_text.hpp"

namespace llmd::sim {

namespace {

double unix_now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double seconds_between(Pod::Clock::time_point from, Pod::Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

PodMetrics fresh_metrics(const PodSettings& settings) {
  PodMetrics metrics;
  metrics.model_name = settings.model;
  metrics.process_start_unix_seconds = unix_now_seconds();
  metrics.enable_prefix_caching = settings.enable_prefix_caching;
  metrics.block_size_tokens = settings.block_size_tokens;
  metrics.num_gpu_blocks = settings.kv_blocks;
  return metrics;
}

constexpr std::string_view k_json = "application/json";

// `--stamp-events`: prefixes an SSE event with `: llmd-sent-ns=<CLOCK_MONOTONIC ns>\n`, a comment in
// the same event block (OpenAI clients ignore comments), taken right before the write.
std::string stamped(bool stamp, std::string event) {
  if (!stamp) {
    return event;
  }
  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Pod::Clock::now().time_since_epoch()).count();
  return fmt::format(": llmd-sent-ns={}\n", now_ns) + event;
}
using Headers = std::vector<std::pair<std::string, std::string>>;

}  // namespace

// One generation request from arrival to its last byte.
struct Pod::Job {
  Job(net::io_context& io, beast::tcp_stream& connection) : timer(io), stream(&connection) {}

  std::vector<BlockHash> hashes;
  std::size_t prompt_tokens = 0;
  std::size_t total_tokens = 0;       // prompt + max_tokens: the KV the request will hold
  Clock::time_point arrival;
  Clock::time_point admitted_at;
  net::steady_timer timer;            // sleeps of this request; cancelled to wake it
  beast::tcp_stream* stream;          // the client connection (owned by the server session)
  std::optional<PrefixCache::Allocation> allocation;
  std::uint64_t generation = 0;
  std::size_t abort_before_token = 0; // 0 = never; else cut the stream before sending this token (1-based)
  bool admitted = false;
  bool killed = false;                // the pod restarted under this request
};

Pod::Pod(net::io_context& io, std::size_t index, PodSettings settings, std::uint64_t seed, Vocabulary* vocabulary)
    : m_io(io),
      m_index(index),
      m_name(fmt::format("sim-pod-{}", index)),
      m_settings(std::move(settings)),
      m_server(io, m_name, [this](Request& request, Connection& connection) { return handle(request, connection); }),
      m_cache(CacheConfig{m_settings.block_size_tokens, m_settings.kv_blocks, m_settings.enable_prefix_caching}),
      m_metrics(fresh_metrics(m_settings)),
      m_rng(seed + index * 0x9E3779B97F4A7C15ull),
      m_own_vocabulary(vocabulary == nullptr ? std::make_unique<Vocabulary>(m_settings.tokenizer_piece_bytes) : nullptr),
      m_vocabulary(vocabulary == nullptr ? m_own_vocabulary.get() : vocabulary) {
  for (std::size_t k = 0; k < 16; ++k) {
    m_vocabulary->learn(generated_token(0, k));  // the words pods generate detokenize too
  }
}

Pod::~Pod() = default;

std::vector<std::pair<std::string, std::string>> Pod::pod_headers() const { return {{"x-llmd-sim-pod", m_name}}; }

util::Result<void> Pod::listen(const std::string& address, std::uint16_t port) { return m_server.listen(address, port); }

void Pod::start() { m_server.start(); }

void Pod::stop() {
  for (auto& job : m_waiting) {
    job->killed = true;
    job->timer.cancel();
  }
  for (const auto& job : m_running) {
    job->killed = true;
    job->timer.cancel();
  }
  m_server.stop();
}

void Pod::restart() {
  for (auto& job : m_waiting) {
    job->killed = true;
    job->timer.cancel();
    close_connection(*job->stream);
  }
  for (const auto& job : m_running) {
    job->killed = true;
    job->timer.cancel();
    close_connection(*job->stream);
  }
  m_waiting.clear();
  m_running.clear();
  m_cache.reset();
  m_metrics = fresh_metrics(m_settings);
  ++m_generation;
  ++m_restarts;
  m_down_until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(m_settings.restart_downtime_s * m_settings.timing.time_scale));
}

bool Pod::reset_prefix_cache() {
  if (!m_running.empty()) {
    return false;  // vLLM: "Failed to reset prefix cache because some blocks are not freed yet"
  }
  m_cache.reset();
  ++m_prefix_cache_resets;
  return true;
}

bool Pod::is_down() const { return Clock::now() < m_down_until; }

std::chrono::nanoseconds Pod::scaled(double microseconds) const {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(microseconds * 1000.0 * m_settings.timing.time_scale));
}

std::string Pod::render_metrics() const {
  PodMetrics snapshot = m_metrics;
  snapshot.kv_cache_usage = m_cache.usage();
  snapshot.num_requests_running = m_running.size();
  snapshot.num_requests_waiting = m_waiting.size();
  return sim::render_metrics(snapshot, m_settings.metrics_flavor);
}

nlohmann::json Pod::state() const {
  return {{"name", m_name},
          {"index", m_index},
          {"port", port()},
          {"restarts", m_restarts},
          {"prefix_cache_resets", m_prefix_cache_resets},
          {"running", m_running.size()},
          {"waiting", m_waiting.size()},
          {"prefix_cache_queries_tokens", m_metrics.prefix_cache_queries_tokens},
          {"prefix_cache_hits_tokens", m_metrics.prefix_cache_hits_tokens},
          {"prompt_tokens", m_metrics.prompt_tokens},
          {"generation_tokens", m_metrics.generation_tokens},
          {"kv_cache_usage", m_cache.usage()},
          {"cached_blocks", m_cache.cached_blocks()}};
}

net::awaitable<bool> Pod::handle(Request& request, Connection& connection) {
  const std::string_view target(request.target().data(), request.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  const bool post = request.method() == http::verb::post;
  const bool get = request.method() == http::verb::get;
  const Headers pod_header = pod_headers();
  if (path == "/admin/restart" && post) {
    restart();
    co_await write_response(connection.stream, request, http::status::ok, k_json, util::dump_json(state()), pod_header);
    co_return true;
  }
  if (path == "/admin/state" && get) {
    co_await write_response(connection.stream, request, http::status::ok, k_json, util::dump_json(state()), pod_header);
    co_return true;
  }
  if (is_down()) {
    co_await write_response(connection.stream, request, http::status::service_unavailable, k_json,
                            R"({"detail":"pod is restarting"})", pod_header);
    co_return true;
  }
  if ((path == "/v1/completions" || path == "/v1/chat/completions") && post) {
    co_return co_await handle_generation(path == "/v1/completions" ? Api::completions : Api::chat, request, connection);
  }
  const bool tokenizer_path =
      path == "/tokenize" || path == "/detokenize" || (path == "/reset_prefix_cache" && m_settings.dev_mode);
  if (tokenizer_path && post) {
    co_return co_await handle_tokenizer(path, request, connection);
  }
  if ((path == "/metrics" || path == "/metrics/") && get) {
    co_await write_response(connection.stream, request, http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                            render_metrics(), pod_header);
  } else if (path == "/health" && get) {
    co_await write_response(connection.stream, request, http::status::ok, "", "", pod_header);
  } else if (path == "/v1/models" && get) {
    nlohmann::json model = {{"id", m_settings.model},         {"object", "model"},
                            {"created", static_cast<std::int64_t>(m_metrics.process_start_unix_seconds)},
                            {"owned_by", "vllm"},             {"root", m_settings.model},
                            {"parent", nullptr},              {"max_model_len", m_settings.max_model_len}};
    nlohmann::json body = {{"object", "list"}, {"data", nlohmann::json::array({model})}};
    co_await write_response(connection.stream, request, http::status::ok, k_json, util::dump_json(body), pod_header);
  } else if (path == "/v1/completions" || path == "/v1/chat/completions" || path == "/metrics" || path == "/health" ||
             path == "/v1/models" || tokenizer_path) {
    co_await write_response(connection.stream, request, http::status::method_not_allowed, k_json,
                            R"({"detail":"Method Not Allowed"})", pod_header);
  } else {
    co_await write_response(connection.stream, request, http::status::not_found, k_json, R"({"detail":"Not Found"})",
                            pod_header);
  }
  co_return true;
}

net::awaitable<bool> Pod::send_error(Request& request, Connection& connection, const ApiError& error) {
  const Headers headers = pod_headers();
  co_await write_response(connection.stream, request, static_cast<http::status>(error.status), k_json,
                          render_error(error, error_format_for(m_settings.metrics_flavor)), headers);
  co_return true;
}

net::awaitable<bool> Pod::handle_tokenizer(std::string_view path, Request& request, Connection& connection) {
  const Headers headers = pod_headers();
  if (path == "/reset_prefix_cache") {
    reset_prefix_cache();  // vLLM answers 200 with an empty body whether the reset took or not
    co_await write_response(connection.stream, request, http::status::ok, "", "", headers);
    co_return true;
  }
  std::optional<ApiError> failed;
  std::string body;
  if (path == "/tokenize") {
    auto text = parse_tokenize_request(request.body(), m_settings);
    if (text) {
      m_vocabulary->learn(*text);
      body = render_tokenize_response(tokenize(*text, m_settings.tokenizer_piece_bytes), m_settings.max_model_len);
    } else {
      failed = text.error();
    }
  } else {
    auto ids = parse_detokenize_request(request.body(), m_settings);
    std::string prompt;
    for (std::size_t i = 0; ids && i < ids->size() && !failed; ++i) {
      if (const auto piece = m_vocabulary->piece((*ids)[i])) {
        prompt += (i == 0 ? "" : " ") + std::string(*piece);
      } else {
        failed = ApiError{400, "BadRequestError",
                          fmt::format("token id {} (tokens[{}]) is not in the simulator's vocabulary: it knows the "
                                      "tokens of texts sent to POST /tokenize and of generated text",
                                      (*ids)[i], i),
                          "tokens"};
      }
    }
    if (!ids) {
      failed = ids.error();
    }
    body = render_detokenize_response(prompt);
  }
  if (failed) {
    co_return co_await send_error(request, connection, *failed);
  }
  co_await write_response(connection.stream, request, http::status::ok, k_json, std::move(body), headers);
  co_return true;
}

net::awaitable<bool> Pod::handle_generation(Api api, Request& request, Connection& connection) {
  std::size_t prompt_tokens = 0;
  auto parsed = parse_generation_request(api, request.body(), m_settings, &prompt_tokens);
  if (!parsed) {
    co_return co_await send_error(request, connection, parsed.error());
  }
  auto job = std::make_shared<Job>(m_io, connection.stream);
  job->arrival = Clock::now();
  job->prompt_tokens = prompt_tokens;
  job->total_tokens = prompt_tokens + parsed->max_tokens;
  // Named, not temporaries in the co_await expression: GCC 12 double-destroys those (PR 100611).
  std::optional<ApiError> rejection;
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  if (m_cache.blocks_needed(job->total_tokens) > m_cache.total_blocks()) {
    rejection = ApiError{400, "BadRequestError",
                         fmt::format("The request needs {} KV cache blocks ({} tokens) but the pod has only {} (--kv-blocks).",
                                     m_cache.blocks_needed(job->total_tokens), job->total_tokens, m_cache.total_blocks()),
                         std::nullopt};
  } else if (m_settings.error_rate > 0 && coin(m_rng) < m_settings.error_rate) {
    rejection = ApiError{500, "InternalServerError", "Injected failure (llmd-bench sim --error-rate)", std::nullopt};
  }
  if (rejection) {
    co_return co_await send_error(request, connection, *rejection);
  }
  if (m_settings.abort_rate > 0 && coin(m_rng) < m_settings.abort_rate) {
    std::uniform_int_distribution<std::size_t> where(1, parsed->max_tokens);
    job->abort_before_token = where(m_rng);
  }
  job->hashes = block_hashes(tokenize(parsed->prompt_text, m_settings.tokenizer_piece_bytes), m_settings.block_size_tokens);
  job->generation = m_generation;
  m_waiting.push_back(job);
  schedule(Clock::now());
  if (!job->admitted) {
    job->timer.expires_at(Clock::time_point::max());
    boost::system::error_code ec;
    co_await job->timer.async_wait(net::redirect_error(net::use_awaitable, ec));  // schedule() cancels it
  }
  if (job->killed || !job->admitted) {
    co_return false;  // the pod restarted or stopped: the connection is already closed
  }
  co_return co_await stream_tokens(job, *parsed, request);
}

void Pod::schedule(Clock::time_point freed_at) {
  // FCFS like vLLM's scheduler: the head of the queue waits for KV blocks; nobody overtakes it.
  while (!m_waiting.empty() && m_running.size() < m_settings.max_num_seqs) {
    auto allocation = m_cache.allocate(m_waiting.front()->hashes, m_waiting.front()->prompt_tokens,
                                       m_waiting.front()->total_tokens);
    if (!allocation) {
      break;
    }
    auto job = std::move(m_waiting.front());
    m_waiting.pop_front();
    admit(*job, *allocation, std::max(job->arrival, freed_at));
    m_running.insert(job);
    job->timer.cancel();
  }
}

void Pod::admit(Job& job, const PrefixCache::Allocation& allocation, Clock::time_point admitted_at) {
  job.allocation = allocation;
  job.admitted = true;
  job.admitted_at = admitted_at;
  // vLLM V1 registers a request's full blocks when it allocates them at scheduling time
  // (block_pool.cache_full_blocks from allocate_slots), so a request scheduled right after can hit.
  m_cache.commit(allocation.id);
  if (m_settings.enable_prefix_caching) {
    // vLLM counts a lookup when the scheduler allocates the request: queries += prompt tokens,
    // hits += cached prompt tokens (vllm/v1/core/kv_cache_manager.py, PrefixCacheStats).
    m_metrics.prefix_cache_queries_tokens += job.prompt_tokens;
    m_metrics.prefix_cache_hits_tokens += allocation.hit_tokens;
    m_metrics.prefix_cache_queried_blocks += allocation.query_blocks;
    m_metrics.prefix_cache_hit_blocks += allocation.hit_blocks;
  }
  m_metrics.request_queue_time.observe(seconds_between(job.arrival, job.admitted_at));
}

void Pod::finish(const std::shared_ptr<Job>& job, const char* reason, Clock::time_point ended_at) {
  if (job->generation != m_generation || m_running.erase(job) == 0) {
    return;  // restarted meanwhile: this request no longer exists for the pod
  }
  m_cache.release(job->allocation->id);
  ++m_metrics.request_success_by_reason[reason];
  m_metrics.e2e_request_latency.observe(seconds_between(job->arrival, Clock::now()));
  schedule(ended_at);
}

std::optional<std::size_t> Pod::reported_cached_tokens(const Job& job) const {
  if (!m_settings.prompt_tokens_details) {
    return std::nullopt;
  }
  // The same tokens admit() added to the hits counter (none with prefix caching off).
  return m_settings.enable_prefix_caching ? job.allocation->hit_tokens : 0;
}

net::awaitable<bool> Pod::sleep_until(const std::shared_ptr<Job>& job, Clock::time_point when) {
  job->timer.expires_at(when);
  boost::system::error_code ec;
  co_await job->timer.async_wait(net::redirect_error(net::use_awaitable, ec));
  co_return !job->killed;
}

net::awaitable<bool> Pod::stream_tokens(std::shared_ptr<Job> job, const GenerationRequest& request, Request& http_request) {
  const auto& timing = m_settings.timing;
  const std::size_t uncached = job->prompt_tokens - job->allocation->hit_tokens;
  // Every deadline counts from the admission in model time (see finish()), not from when this coroutine
  // happens to run: the prefill ends at admitted_at + prefill, token k at that + k x inter_token.
  const auto first_token_due = job->admitted_at + scaled(timing.prefill_base_ms * 1000.0 +
                                                         timing.prefill_per_token_us * static_cast<double>(uncached));
  if (!co_await sleep_until(job, first_token_due)) {
    co_return false;
  }
  m_metrics.prompt_tokens += job->prompt_tokens;
  const std::uint64_t seed = m_next_request_id++;
  const ResponseWriter writer(request, fmt::format("{}-{}-{}", request.api == Api::chat ? "chatcmpl" : "cmpl", m_name, seed),
                              static_cast<std::int64_t>(unix_now_seconds()));
  const auto first_token_at = Clock::now();
  const auto interval = scaled(timing.inter_token_ms * 1000.0);
  const auto last_token_due = first_token_due + interval * static_cast<std::int64_t>(request.max_tokens - 1);
  m_metrics.time_to_first_token.observe(seconds_between(job->arrival, first_token_at));
  if (!request.stream) {
    if (!co_await sleep_until(job, last_token_due)) {
      co_return false;
    }
    std::string text;
    for (std::size_t k = 0; k < request.max_tokens; ++k) {
      text += generated_token(seed, k);
    }
    m_metrics.generation_tokens += request.max_tokens;
    finish(job, "length", last_token_due);
    const Headers headers = pod_headers();
    co_await write_response(*job->stream, http_request, http::status::ok, k_json,
                            writer.full_response(text, "length", job->prompt_tokens, request.max_tokens, reported_cached_tokens(*job)),
                            headers);
    co_return true;
  }
  const Headers headers = pod_headers();
  const bool stamp = m_settings.stamp_events;
  try {
    co_await write_chunked_header(*job->stream, http_request, http::status::ok, "text/event-stream; charset=utf-8", headers);
    if (request.api == Api::chat) {
      const std::string role = stamped(stamp, writer.stream_role_chunk());
      co_await write_chunk(*job->stream, role);
    }
    auto last_token_at = first_token_at;
    for (std::size_t k = 0; k < request.max_tokens; ++k) {
      if (k > 0 && !co_await sleep_until(job, first_token_due + interval * static_cast<std::int64_t>(k))) {
        co_return false;
      }
      if (job->abort_before_token != 0 && job->abort_before_token == k) {
        break;
      }
      const bool last = k + 1 == request.max_tokens;
      const std::string token = stamped(stamp, writer.stream_token_chunk(generated_token(seed, k), last ? "length" : nullptr));
      co_await write_chunk(*job->stream, token);
      ++m_metrics.generation_tokens;
      const auto now = Clock::now();
      if (k > 0) {
        m_metrics.inter_token_latency.observe(seconds_between(last_token_at, now));
      }
      last_token_at = now;
    }
    if (job->abort_before_token != 0) {
      // Fault injection (--abort-rate): cut the stream mid-way, as a crashed worker would.
      close_connection(*job->stream);
      finish(job, "abort", Clock::now());
      co_return false;
    }
    if (request.include_usage) {
      const std::string usage =
          stamped(stamp, writer.stream_usage_chunk(job->prompt_tokens, request.max_tokens, reported_cached_tokens(*job)));
      co_await write_chunk(*job->stream, usage);
    }
    const std::string done = stamped(stamp, ResponseWriter::stream_done());
    co_await write_chunk(*job->stream, done);
    co_await write_last_chunk(*job->stream);
  } catch (const boost::system::system_error&) {
    finish(job, "abort", Clock::now());  // the client went away mid-stream
    co_return false;
  }
  finish(job, "length", last_token_due);
  co_return true;
}

}  // namespace llmd::sim
