#include "sim/metrics_exporter.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <span>
#include <utility>

#include "prom/text_writer.hpp"

// Sources (github.com/vllm-project/vllm, read through the code index):
//   [V1-0.11] vllm/v1/metrics/loggers.py at 0.11.0 (gpu_* families behind show_hidden_metrics,
//             "Deprecated in 0.11 - Renamed as vllm:inter_token_latency_seconds").
//   [V1-0.10] vllm/v1/metrics/loggers.py at 0.10.0/0.10.1 (engine_indexes, gpu_* and new names side
//             by side, time_per_output_token_seconds not yet deprecated; HELP strings match
//             test/fixtures/metrics/vllm-v0.10.0-*.txt, typo "queriedtokens" included).
//   [V0]      vllm/engine/metrics.py at 0.6.x-0.7.x (Metrics class; 0.8.x only appends
//             "DEPRECATED: ..." to the HELP of the cpu_* / hit-rate / swapped families).
// Exposition details follow prometheus_client's text format 0.0.4 (generate_latest): labels sorted by
// name, counters as <name>_total, histogram samples _bucket..., _count, _sum, and for V1 (which keeps
// created metrics on) one extra gauge family <name>_created per counter/histogram with the same HELP.
// V0 calls prometheus_client.disable_created_metrics() and runs in multiprocess mode: no _created.

namespace llmd::sim {

namespace {

// ---- Histogram bounds (seconds) ---------------------------------------------------------------
// [V1-0.11] time_to_first_token_seconds; identical since V1's first loggers.py (0.8).
constexpr std::array<double, 22> k_ttft_bounds = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,
                                                  0.25,  0.5,   0.75, 1.0,  2.5,  5.0,  7.5,  10.0,
                                                  20.0,  40.0,  80.0, 160.0, 640.0, 2560.0};
// [V1-0.11] inter_token_latency_seconds == time_per_output_token_seconds buckets.
constexpr std::array<double, 19> k_inter_token_bounds = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,
                                                         0.3,  0.4,   0.5,  0.75,  1.0, 2.5,  5.0,
                                                         7.5,  10.0,  20.0, 40.0,  80.0};
// [V1-0.11] request_latency_buckets (e2e, queue, prefill, decode, inference).
constexpr std::array<double, 21> k_request_latency_bounds = {
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0,
    120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};
// [V0] uses a PREFIX of each list: TTFT 0.001..10.0 (16), TPOT 0.01..2.5 (13), request latency
// 0.3..60.0 (15; 0.4.x had e2e only, 1.0..60.0). Prefixes let V0 be rendered exactly from V1 counts.
constexpr std::size_t k_v0_ttft_bounds = 16;
constexpr std::size_t k_v0_inter_token_bounds = 13;
constexpr std::size_t k_v0_request_latency_bounds = 15;
static_assert(k_ttft_bounds[k_v0_ttft_bounds - 1] == 10.0);
static_assert(k_inter_token_bounds[k_v0_inter_token_bounds - 1] == 2.5);
static_assert(k_request_latency_bounds[k_v0_request_latency_bounds - 1] == 60.0);

// ---- Metric tables ----------------------------------------------------------------------------
enum class Kind { counter, gauge, histogram, counter_by_reason, info };
enum class Value {
  running, waiting, zero, kv_cache_usage, gpu_hit_rate, cpu_hit_rate, prefix_queries, prefix_hits,
  prompt_tokens, generation_tokens, request_success, ttft, inter_token, e2e, queue, cache_config,
};
enum class Bounds { as_observed, v0_ttft, v0_inter_token, v0_request_latency };

struct MetricRow {
  std::string_view base_name;  // counters without "_total", histograms without "_bucket"
  Kind kind;
  Value value;
  std::string_view help;
  Bounds bounds = Bounds::as_observed;
};

constexpr std::string_view k_help_success = "Count of successfully processed requests.";
constexpr std::string_view k_help_ttft = "Histogram of time to first token in seconds.";
constexpr std::string_view k_help_tpot = "Histogram of time per output token in seconds.";
constexpr std::string_view k_help_queue = "Histogram of time spent in WAITING phase for request.";
constexpr std::string_view k_help_cache_config = "Information of the LLMEngine CacheConfig";

// vLLM 0.11.x, in [V1-0.11] registration order (cache_config_info comes last: log_engine_initialized).
constexpr MetricRow k_v0_11_rows[] = {
    {"vllm:num_requests_running", Kind::gauge, Value::running, "Number of requests in model execution batches."},
    {"vllm:num_requests_waiting", Kind::gauge, Value::waiting, "Number of requests waiting to be processed."},
    // 0.11 hides vllm:gpu_cache_usage_perc and vllm:gpu_prefix_cache_* (PR #24245; show_hidden_metrics).
    {"vllm:kv_cache_usage_perc", Kind::gauge, Value::kv_cache_usage, "KV-cache usage. 1 means 100 percent usage."},
    {"vllm:prefix_cache_queries", Kind::counter, Value::prefix_queries,
     "Prefix cache queries, in terms of number of queried tokens."},
    {"vllm:prefix_cache_hits", Kind::counter, Value::prefix_hits,
     "Prefix cache hits, in terms of number of cached tokens."},
    {"vllm:num_preemptions", Kind::counter, Value::zero, "Cumulative number of preemption from the engine."},
    {"vllm:prompt_tokens", Kind::counter, Value::prompt_tokens, "Number of prefill tokens processed."},
    {"vllm:generation_tokens", Kind::counter, Value::generation_tokens, "Number of generation tokens processed."},
    // Pre-created for every FinishReason: stop, length, abort ("error" arrived after 0.11.0).
    {"vllm:request_success", Kind::counter_by_reason, Value::request_success, k_help_success},
    {"vllm:time_to_first_token_seconds", Kind::histogram, Value::ttft, k_help_ttft},
    // Deprecated in 0.11 but still shown (hidden from 0.12); fed the same ITL samples (PR #24110).
    {"vllm:time_per_output_token_seconds", Kind::histogram, Value::inter_token,
     "Histogram of time per output token in seconds.DEPRECATED: Use vllm:inter_token_latency_seconds instead."},
    {"vllm:inter_token_latency_seconds", Kind::histogram, Value::inter_token,
     "Histogram of inter-token latency in seconds."},
    {"vllm:e2e_request_latency_seconds", Kind::histogram, Value::e2e, "Histogram of e2e request latency in seconds."},
    {"vllm:request_queue_time_seconds", Kind::histogram, Value::queue, k_help_queue},
    {"vllm:cache_config_info", Kind::info, Value::cache_config, k_help_cache_config},
};
static_assert(std::size(k_v0_11_rows) == 15);

// vLLM 0.9.2-0.10.x, in [V1-0.10] registration order. Old and new names get the same increments.
constexpr MetricRow k_v0_10_rows[] = {
    {"vllm:num_requests_running", Kind::gauge, Value::running, "Number of requests in model execution batches."},
    {"vllm:num_requests_waiting", Kind::gauge, Value::waiting, "Number of requests waiting to be processed."},
    {"vllm:gpu_cache_usage_perc", Kind::gauge, Value::kv_cache_usage,
     "GPU KV-cache usage. 1 means 100 percent usage.DEPRECATED: Use vllm:kv_cache_usage_perc instead."},
    {"vllm:gpu_prefix_cache_queries", Kind::counter, Value::prefix_queries,
     "GPU prefix cache queries, in terms of number of queriedtokens. DEPRECATED: Use vllm:prefix_cache_queries "
     "instead."},
    {"vllm:gpu_prefix_cache_hits", Kind::counter, Value::prefix_hits,
     "GPU prefix cache hits, in terms of number of cached tokens. DEPRECATED: Use vllm:prefix_cache_hits instead."},
    {"vllm:kv_cache_usage_perc", Kind::gauge, Value::kv_cache_usage, "KV-cache usage. 1 means 100 percent usage."},
    {"vllm:prefix_cache_queries", Kind::counter, Value::prefix_queries,
     "Prefix cache queries, in terms of number of queried tokens."},
    {"vllm:prefix_cache_hits", Kind::counter, Value::prefix_hits,
     "Prefix cache hits, in terms of number of cached tokens."},
    {"vllm:num_preemptions", Kind::counter, Value::zero, "Cumulative number of preemption from the engine."},
    {"vllm:prompt_tokens", Kind::counter, Value::prompt_tokens, "Number of prefill tokens processed."},
    {"vllm:generation_tokens", Kind::counter, Value::generation_tokens, "Number of generation tokens processed."},
    {"vllm:request_success", Kind::counter_by_reason, Value::request_success, k_help_success},
    {"vllm:time_to_first_token_seconds", Kind::histogram, Value::ttft, k_help_ttft},
    // 0.10.0/0.10.1: no inter_token_latency yet (0.10.2 adds it and deprecates this one).
    {"vllm:time_per_output_token_seconds", Kind::histogram, Value::inter_token, k_help_tpot},
    {"vllm:e2e_request_latency_seconds", Kind::histogram, Value::e2e, "Histogram of e2e request latency in seconds."},
    {"vllm:request_queue_time_seconds", Kind::histogram, Value::queue, k_help_queue},
    {"vllm:cache_config_info", Kind::info, Value::cache_config, k_help_cache_config},
};
static_assert(std::size(k_v0_10_rows) == 17);

// V0 engine 0.6.x-0.8.x, in [V0] Metrics.__init__ order (request_success after the histograms).
// Labels: model_name only. Matches the shapes of test/fixtures/metrics/vllm-v0.4.3-V0engine-*.txt.
constexpr MetricRow k_v0_rows[] = {
    {"vllm:num_requests_running", Kind::gauge, Value::running, "Number of requests currently running on GPU."},
    {"vllm:num_requests_waiting", Kind::gauge, Value::waiting, "Number of requests waiting to be processed."},
    {"vllm:num_requests_swapped", Kind::gauge, Value::zero, "Number of requests swapped to CPU."},
    {"vllm:gpu_cache_usage_perc", Kind::gauge, Value::kv_cache_usage, "GPU KV-cache usage. 1 means 100 percent usage."},
    {"vllm:cpu_cache_usage_perc", Kind::gauge, Value::zero, "CPU KV-cache usage. 1 means 100 percent usage."},
    // 0.5.5+: block hit ratio of the CPU / GPU allocators, -1 when prefix caching is off.
    {"vllm:cpu_prefix_cache_hit_rate", Kind::gauge, Value::cpu_hit_rate, "CPU prefix cache block hit rate."},
    {"vllm:gpu_prefix_cache_hit_rate", Kind::gauge, Value::gpu_hit_rate, "GPU prefix cache block hit rate."},
    {"vllm:num_preemptions", Kind::counter, Value::zero, "Cumulative number of preemption from the engine."},
    {"vllm:prompt_tokens", Kind::counter, Value::prompt_tokens, "Number of prefill tokens processed."},
    {"vllm:generation_tokens", Kind::counter, Value::generation_tokens, "Number of generation tokens processed."},
    {"vllm:time_to_first_token_seconds", Kind::histogram, Value::ttft, k_help_ttft, Bounds::v0_ttft},
    {"vllm:time_per_output_token_seconds", Kind::histogram, Value::inter_token, k_help_tpot, Bounds::v0_inter_token},
    {"vllm:e2e_request_latency_seconds", Kind::histogram, Value::e2e,
     "Histogram of end to end request latency in seconds.", Bounds::v0_request_latency},
    // 0.6.x+ (absent from the 0.4.3 fixture).
    {"vllm:request_queue_time_seconds", Kind::histogram, Value::queue, k_help_queue, Bounds::v0_request_latency},
    // V0 increments a reason's series on first use: only reasons seen so far appear.
    {"vllm:request_success", Kind::counter_by_reason, Value::request_success, k_help_success},
    {"vllm:cache_config_info", Kind::info, Value::cache_config, k_help_cache_config},
};
static_assert(std::size(k_v0_rows) == 16);

// [V1-0.11] `for reason in FinishReason`: str(FinishReason) of 0.10/0.11.
constexpr std::array<std::string_view, 3> k_v1_finish_reasons = {"stop", "length", "abort"};

std::span<const MetricRow> rows_for(MetricsFlavor flavor) {
  switch (flavor) {
    case MetricsFlavor::v0: return k_v0_rows;
    case MetricsFlavor::v0_10: return k_v0_10_rows;
    case MetricsFlavor::v0_11: return k_v0_11_rows;
  }
  return k_v0_11_rows;
}

// ---- Values -----------------------------------------------------------------------------------
double v0_hit_rate(const PodMetrics& m, std::uint64_t hits, std::uint64_t queries) {
  if (!m.enable_prefix_caching) {
    return -1.0;  // NaiveBlockAllocator.get_prefix_cache_hit_rate()
  }
  // CacheMetricData.get_hit_rate(): 0.0 before any query, else cumulative hits / queries.
  return queries == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(queries);
}

double scalar_value(const PodMetrics& m, Value value) {
  switch (value) {
    case Value::running: return static_cast<double>(m.num_requests_running);
    case Value::waiting: return static_cast<double>(m.num_requests_waiting);
    case Value::kv_cache_usage: return m.kv_cache_usage;
    // The simulator never swaps to CPU: the CPU allocator is never queried.
    case Value::cpu_hit_rate: return v0_hit_rate(m, 0, 0);
    case Value::gpu_hit_rate: return v0_hit_rate(m, m.prefix_cache_hit_blocks, m.prefix_cache_queried_blocks);
    case Value::prefix_queries: return static_cast<double>(m.prefix_cache_queries_tokens);
    case Value::prefix_hits: return static_cast<double>(m.prefix_cache_hits_tokens);
    case Value::prompt_tokens: return static_cast<double>(m.prompt_tokens);
    case Value::generation_tokens: return static_cast<double>(m.generation_tokens);
    default: return 0.0;  // Value::zero and non-scalar values
  }
}

const HistogramData& histogram_of(const PodMetrics& m, Value value) {
  switch (value) {
    case Value::ttft: return m.time_to_first_token;
    case Value::inter_token: return m.inter_token_latency;
    case Value::e2e: return m.e2e_request_latency;
    default: return m.request_queue_time;
  }
}

std::string python_bool(bool value) { return value ? "True" : "False"; }

// ---- Rendering --------------------------------------------------------------------------------
using Labels = std::vector<std::pair<std::string, std::string>>;

// prometheus_client prints labels sorted by name whatever their declaration order.
void append_sorted(std::string& out, std::string_view name, Labels labels, double value) {
  std::sort(labels.begin(), labels.end());
  const prom::LabelPairs pairs(labels.begin(), labels.end());
  prom::append_sample(out, name, pairs, value);
}

Labels with_label(Labels labels, std::string name, std::string value) {
  labels.emplace_back(std::move(name), std::move(value));
  return labels;
}

// The `le` bounds to print. V0 rows print V0's shorter lists, which are prefixes of the V1 lists the
// simulator observes with; counts stay exact as long as every printed bound is an observed bound.
std::vector<double> render_bounds(const HistogramData& data, Bounds bounds) {
  std::span<const double> wanted;
  switch (bounds) {
    case Bounds::as_observed: return data.upper_bounds;
    case Bounds::v0_ttft: wanted = std::span(k_ttft_bounds).first(k_v0_ttft_bounds); break;
    case Bounds::v0_inter_token: wanted = std::span(k_inter_token_bounds).first(k_v0_inter_token_bounds); break;
    case Bounds::v0_request_latency:
      wanted = std::span(k_request_latency_bounds).first(k_v0_request_latency_bounds);
      break;
  }
  const bool all_observed = std::all_of(wanted.begin(), wanted.end(), [&](double bound) {
    return std::binary_search(data.upper_bounds.begin(), data.upper_bounds.end(), bound);
  });
  if (!all_observed) {
    return data.upper_bounds;  // custom bounds: print them rather than invent counts
  }
  return {wanted.begin(), wanted.end()};
}

class Renderer {
 public:
  Renderer(const PodMetrics& metrics, MetricsFlavor flavor)
      : m_metrics(metrics), m_flavor(flavor), m_v1(flavor != MetricsFlavor::v0) {
    if (m_v1) {
      m_labels.emplace_back("engine", m_metrics.engine);
    }
    m_labels.emplace_back("model_name", m_metrics.model_name);
  }

  void render(std::string& out, const MetricRow& row) const {
    switch (row.kind) {
      case Kind::gauge:
        prom::append_header(out, row.base_name, "gauge", row.help);
        append_sorted(out, row.base_name, m_labels, scalar_value(m_metrics, row.value));
        break;
      case Kind::counter: render_counter(out, row, {{m_labels, scalar_value(m_metrics, row.value)}}); break;
      case Kind::counter_by_reason: render_counter(out, row, success_series()); break;
      case Kind::histogram: render_histogram(out, row, histogram_of(m_metrics, row.value)); break;
      case Kind::info:
        prom::append_header(out, row.base_name, "gauge", row.help);
        append_sorted(out, row.base_name, cache_config_labels(), 1.0);
        break;
    }
  }

 private:
  using Series = std::vector<std::pair<Labels, double>>;

  // V1 pre-creates every FinishReason; V0 shows the reasons seen. Extra reasons follow, sorted.
  Series success_series() const {
    Series series;
    const auto& counts = m_metrics.request_success_by_reason;
    auto add = [&](const std::string& reason, std::uint64_t count) {
      series.emplace_back(with_label(m_labels, "finished_reason", reason), static_cast<double>(count));
    };
    if (m_v1) {
      for (std::string_view reason : k_v1_finish_reasons) {
        const auto it = counts.find(std::string(reason));
        add(std::string(reason), it == counts.end() ? 0 : it->second);
      }
    }
    for (const auto& [reason, count] : counts) {
      const bool precreated = m_v1 && std::find(k_v1_finish_reasons.begin(), k_v1_finish_reasons.end(),
                                                reason) != k_v1_finish_reasons.end();
      if (!precreated) {
        add(reason, count);
      }
    }
    return series;
  }

  void render_counter(std::string& out, const MetricRow& row, const Series& series) const {
    const std::string total = std::string(row.base_name) + "_total";
    prom::append_header(out, total, "counter", row.help);
    for (const auto& [labels, value] : series) {
      append_sorted(out, total, labels, value);
    }
    if (m_v1) {
      render_created(out, row, series);
    }
  }

  // prometheus_client moves each child's `_created` sample into a trailing gauge family.
  void render_created(std::string& out, const MetricRow& row, const Series& series) const {
    const std::string created = std::string(row.base_name) + "_created";
    prom::append_header(out, created, "gauge", row.help);
    for (const auto& entry : series) {
      append_sorted(out, created, entry.first, m_metrics.process_start_unix_seconds);
    }
  }

  void render_histogram(std::string& out, const MetricRow& row, const HistogramData& data) const {
    const std::string base(row.base_name);
    prom::append_header(out, base, "histogram", row.help);
    const std::vector<double> bounds = render_bounds(data, row.bounds);
    std::uint64_t cumulative = 0;
    std::size_t next = 0;  // index into data.bucket_counts
    for (double bound : bounds) {
      for (; next < data.upper_bounds.size() && data.upper_bounds[next] <= bound; ++next) {
        cumulative += data.bucket_counts[next];
      }
      append_sorted(out, base + "_bucket", with_label(m_labels, "le", prom::format_value(bound)),
                    static_cast<double>(cumulative));
    }
    // Like prometheus_client, the +Inf bucket and _count are the total of all buckets.
    std::uint64_t total = 0;
    for (std::uint64_t count : data.bucket_counts) {
      total += count;
    }
    append_sorted(out, base + "_bucket", with_label(m_labels, "le", "+Inf"), static_cast<double>(total));
    append_sorted(out, base + "_count", m_labels, static_cast<double>(total));
    append_sorted(out, base + "_sum", m_labels, data.sum);
    if (m_v1) {
      render_created(out, row, {{m_labels, 0.0}});
    }
  }

  // CacheConfig.metrics_info(): every field printed with Python str(); no model_name label.
  Labels cache_config_labels() const {
    const PodMetrics& m = m_metrics;
    if (!m_v1) {
      // 0.7.x V0 label set (AIBrix docs capture of a V0 server); --swap-space 0: no CPU blocks.
      return {{"block_size", std::to_string(m.block_size_tokens)}, {"cache_dtype", "auto"},
              {"calculate_kv_scales", "False"}, {"cpu_offload_gb", "0"},
              {"enable_prefix_caching", python_bool(m.enable_prefix_caching)},
              {"gpu_memory_utilization", "0.9"}, {"is_attention_free", "False"}, {"num_cpu_blocks", "0"},
              {"num_gpu_blocks", std::to_string(m.num_gpu_blocks)}, {"num_gpu_blocks_override", "None"},
              {"sliding_window", "None"}, {"swap_space_bytes", "0"}};
    }
    // 0.11.0 label set of test/fixtures/metrics/vllm-v0.11.0-*.txt. The 0.10.x set was not verified
    // (lookup failed); per VLLM-METRICS.md consumers must not rely on it. 0.10 hashed with "builtin".
    const std::string hash_algo = m_flavor == MetricsFlavor::v0_10 ? "builtin" : "sha256";
    return {{"block_size", std::to_string(m.block_size_tokens)}, {"cache_dtype", "auto"},
            {"calculate_kv_scales", "False"}, {"cpu_kvcache_space_bytes", "None"}, {"cpu_offload_gb", "0.0"},
            {"enable_prefix_caching", python_bool(m.enable_prefix_caching)}, {"engine", m.engine},
            {"gpu_memory_utilization", "0.9"}, {"is_attention_free", "False"}, {"kv_cache_memory_bytes", "None"},
            {"kv_sharing_fast_prefill", "False"}, {"mamba_cache_dtype", "auto"},
            {"mamba_page_size_padded", "None"}, {"mamba_ssm_cache_dtype", "auto"}, {"num_cpu_blocks", "None"},
            {"num_gpu_blocks", std::to_string(m.num_gpu_blocks)}, {"num_gpu_blocks_override", "None"},
            {"prefix_caching_hash_algo", hash_algo}, {"sliding_window", "None"}, {"swap_space", "0.0"},
            {"swap_space_bytes", "0.0"}};
  }

  const PodMetrics& m_metrics;
  MetricsFlavor m_flavor;
  bool m_v1;       // V1 engine: `engine` label and `_created` families
  Labels m_labels; // model_name (+ engine)
};

}  // namespace

util::Result<MetricsFlavor> parse_metrics_flavor(std::string_view text) {
  for (MetricsFlavor flavor : {MetricsFlavor::v0, MetricsFlavor::v0_10, MetricsFlavor::v0_11}) {
    if (text == to_string(flavor)) {
      return flavor;
    }
  }
  return util::fail("unknown metrics flavor \"" + std::string(text) +
                    "\": expected one of \"v0\", \"v0.10\", \"v0.11\"");
}

std::string_view to_string(MetricsFlavor flavor) {
  switch (flavor) {
    case MetricsFlavor::v0: return "v0";
    case MetricsFlavor::v0_10: return "v0.10";
    case MetricsFlavor::v0_11: return "v0.11";
  }
  return "v0.11";
}

HistogramData::HistogramData(std::vector<double> bounds) : upper_bounds(std::move(bounds)) {
  // prometheus_client appends +Inf itself; a caller's trailing +Inf would print le="+Inf" twice.
  while (!upper_bounds.empty() && std::isinf(upper_bounds.back()) && upper_bounds.back() > 0) {
    upper_bounds.pop_back();
  }
  bucket_counts.assign(upper_bounds.size() + 1, 0);
}

void HistogramData::observe(double value) {
  sum += value;
  if (std::isnan(value)) {
    return;  // as prometheus_client: NaN lands in no bucket (so not in _count) but poisons _sum
  }
  bucket_counts.resize(upper_bounds.size() + 1, 0);
  // The first bound >= value (le is inclusive); past the last bound: the +Inf bucket.
  const auto it = std::lower_bound(upper_bounds.begin(), upper_bounds.end(), value);
  ++bucket_counts[static_cast<std::size_t>(it - upper_bounds.begin())];
  ++count;
}

std::vector<double> ttft_buckets_seconds() { return {k_ttft_bounds.begin(), k_ttft_bounds.end()}; }

std::vector<double> inter_token_buckets_seconds() {
  return {k_inter_token_bounds.begin(), k_inter_token_bounds.end()};
}

std::vector<double> request_latency_buckets_seconds() {
  return {k_request_latency_bounds.begin(), k_request_latency_bounds.end()};
}

std::string render_metrics(const PodMetrics& metrics, MetricsFlavor flavor) {
  const Renderer renderer(metrics, flavor);
  std::string out;
  for (const MetricRow& row : rows_for(flavor)) {
    renderer.render(out, row);
  }
  return out;
}

}  // namespace llmd::sim
