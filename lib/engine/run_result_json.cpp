// Reading a run back: run_result_from_json() and phase_result_from_json(), the inverse of
// to_json(RunResult) / to_json(PhaseResult) (run_result.cpp) for everything to_json writes, so that
// `llmd-bench merge` can add shard results up exactly. Every error names the JSON path of the value
// at fault ("run.phases[1].metrics.ttft_ns.histogram: ...").
//
// What to_json does not write cannot come back: attribution (the routing report is the result's own
// section), stop_reason / stopped_at. Two figures are written only in derived form and are recovered
// from it: the arrival window (achieved_rate_per_second = started / window, when the result predates
// "arrival_window_ns") and input_tokens_total (null unless every ok response reported usage: then 0
// is read back, and to_json writes null again since responses_with_input_tokens < ok).
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/run_result.hpp"
#include "scenario/scenario.hpp"
#include "util/instant.hpp"
#include "util/json_text.hpp"

namespace llmd::engine {

using nlohmann::json;
using util::Result;
using util::fail;

namespace {

tl::unexpected<std::string> path_error(std::string_view path, std::string_view problem) {
  return fail(fmt::format("{}: {}", path, problem));
}

// A JSON object with its path, for reading members that must be there.
class Node {
 public:
  Node(const json& value, std::string path) : m_value(value), m_path(std::move(path)) {}
  const json& value() const { return m_value; }
  const std::string& path() const { return m_path; }
  std::string path_of(std::string_view key) const { return fmt::format("{}.{}", m_path, key); }

  // The member `key`, which must exist and be an object.
  Result<Node> object(std::string_view key) const {
    auto found = member(key);
    if (!found) {
      return fail(found.error());
    }
    if (!(*found)->is_object()) {
      return path_error(path_of(key), fmt::format("got {}, expected an object", util::json_excerpt(**found)));
    }
    return Node(**found, path_of(key));
  }
  Result<Node> array(std::string_view key) const {
    auto found = member(key);
    if (!found) {
      return fail(found.error());
    }
    if (!(*found)->is_array()) {
      return path_error(path_of(key), fmt::format("got {}, expected an array", util::json_excerpt(**found)));
    }
    return Node(**found, path_of(key));
  }
  Result<const json*> member(std::string_view key) const {
    if (!m_value.is_object()) {
      return path_error(m_path, fmt::format("got {}, expected an object", util::json_excerpt(m_value)));
    }
    const auto it = m_value.find(key);
    if (it == m_value.end()) {
      return path_error(path_of(key), "missing");
    }
    return &*it;
  }
  bool has_null(std::string_view key) const {
    const auto it = m_value.find(key);
    return it == m_value.end() || it->is_null();
  }

 private:
  const json& m_value;
  std::string m_path;
};

Result<std::uint64_t> uint_value(const json& value, std::string_view path) {
  if (const auto number = util::json_uint(value)) {
    return *number;
  }
  return path_error(path, fmt::format("got {}, expected a non-negative integer", util::json_excerpt(value)));
}

// Reads node.key into `out`, keeping the first error in `error` (so a function reads a whole group
// of fields and reports the first bad one).
class Reader {
 public:
  explicit Reader(const Node& node) : m_node(node) {}

  template <class T>
  Reader& count(std::string_view key, T& out) {
    if (auto found = member(key)) {
      if (auto value = uint_value(**found, m_node.path_of(key)); !value) {
        keep(value.error());
      } else if (*value > std::numeric_limits<T>::max()) {
        keep(fmt::format("{}: got {}, expected at most {}", m_node.path_of(key), *value, std::numeric_limits<T>::max()));
      } else {
        out = static_cast<T>(*value);
      }
    }
    return *this;
  }
  Reader& optional_count(std::string_view key, std::optional<std::uint64_t>& out) {
    if (m_node.has_null(key) && m_node.value().contains(key)) {
      out.reset();
      return *this;
    }
    std::uint64_t value = 0;
    count(key, value);
    out = value;
    return *this;
  }
  Reader& number(std::string_view key, double& out) {
    if (auto found = member(key)) {
      if (!(*found)->is_number()) {
        keep(fmt::format("{}: got {}, expected a number", m_node.path_of(key), util::json_excerpt(**found)));
      } else {
        out = (*found)->get<double>();
      }
    }
    return *this;
  }
  Reader& optional_number(std::string_view key, std::optional<double>& out) {
    if (m_node.has_null(key) && m_node.value().contains(key)) {
      out.reset();
      return *this;
    }
    double value = 0;
    number(key, value);
    out = value;
    return *this;
  }
  Reader& nanoseconds(std::string_view key, std::chrono::nanoseconds& out) {
    if (auto found = member(key)) {
      if (!(*found)->is_number_integer()) {
        keep(fmt::format("{}: got {}, expected an integer (ns)", m_node.path_of(key), util::json_excerpt(**found)));
      } else {
        out = std::chrono::nanoseconds((*found)->get<std::int64_t>());
      }
    }
    return *this;
  }
  Reader& boolean(std::string_view key, bool& out) {
    if (auto found = member(key)) {
      if (!(*found)->is_boolean()) {
        keep(fmt::format("{}: got {}, expected true or false", m_node.path_of(key), util::json_excerpt(**found)));
      } else {
        out = (*found)->get<bool>();
      }
    }
    return *this;
  }
  Reader& text(std::string_view key, std::string& out) {
    if (auto found = member(key)) {
      if (!(*found)->is_string()) {
        keep(fmt::format("{}: got {}, expected a string", m_node.path_of(key), util::json_excerpt(**found)));
      } else {
        out = (*found)->get<std::string>();
      }
    }
    return *this;
  }
  // `key`.histogram: a stats histogram JSON in the engine's layout.
  Reader& histogram(std::string_view key, stats::LogLinearHistogram& out);
  // `key`: {"user_ns","system_ns"}; absent or null (results written before it was recorded): unset.
  Reader& cpu(std::string_view key, std::optional<CpuTime>& out);

  Result<void> done() const {
    if (!m_error.empty()) {
      return fail(m_error);
    }
    return {};
  }
  void keep(std::string error) {
    if (m_error.empty()) {
      m_error = std::move(error);
    }
  }

 private:
  std::optional<const json*> member(std::string_view key) {
    auto found = m_node.member(key);
    if (!found) {
      keep(found.error());
      return std::nullopt;
    }
    return *found;
  }

  const Node& m_node;
  std::string m_error;
};

Reader& Reader::histogram(std::string_view key, stats::LogLinearHistogram& out) {
  auto metric = m_node.object(key);
  if (!metric) {
    keep(metric.error());
    return *this;
  }
  auto found = metric->member("histogram");
  if (!found) {
    keep(found.error());
    return *this;
  }
  const std::string path = metric->path_of("histogram");
  auto histogram = stats::LogLinearHistogram::from_json(**found);
  if (!histogram) {
    keep(fmt::format("{}: {}", path, histogram.error()));
  } else if (!(histogram->layout() == engine_histogram_layout())) {
    keep(fmt::format("{}: layout {}, expected the engine's {}", path, stats::to_string(histogram->layout()),
                     stats::to_string(engine_histogram_layout())));
  } else {
    out = std::move(*histogram);
  }
  return *this;
}

Reader& Reader::cpu(std::string_view key, std::optional<CpuTime>& out) {
  if (m_node.has_null(key)) {
    out.reset();
    return *this;
  }
  auto object = m_node.object(key);
  if (!object) {
    keep(object.error());
    return *this;
  }
  std::int64_t user = 0;
  std::int64_t system = 0;
  Reader inner(*object);
  if (auto read = inner.count("user_ns", user).count("system_ns", system).done(); !read) {
    keep(read.error());
    return *this;
  }
  out = CpuTime{std::chrono::nanoseconds{user}, std::chrono::nanoseconds{system}};
  return *this;
}

// Shared with run_result.cpp's to_json through the to_string() functions.
constexpr std::array<FailureClass, k_failure_class_count> k_failure_classes = {
    FailureClass::connect,         FailureClass::tls,           FailureClass::timeout,
    FailureClass::http_status,     FailureClass::stream_cut,    FailureClass::malformed_event,
    FailureClass::server_error_event, FailureClass::other};

constexpr std::array<scenario::ExecutorKind, 7> k_executors = {
    scenario::ExecutorKind::constant_vus,  scenario::ExecutorKind::ramping_vus, scenario::ExecutorKind::constant_arrival_rate,
    scenario::ExecutorKind::poisson,       scenario::ExecutorKind::gamma,       scenario::ExecutorKind::iterations,
    scenario::ExecutorKind::trace};

Result<void> read_executor(const Node& phase, PhaseResult& out) {
  auto found = phase.member("executor");
  if (!found) {
    return fail(found.error());
  }
  if ((*found)->is_null()) {
    out.executor.reset();
    return {};
  }
  for (const auto executor : k_executors) {
    if ((*found)->is_string() && (*found)->get_ref<const std::string&>() == to_string(executor)) {
      out.executor = executor;
      return {};
    }
  }
  return path_error(phase.path_of("executor"), fmt::format("got {}, expected an executor name or null", util::json_excerpt(**found)));
}

Result<void> read_failures(const Node& phase, PhaseResult& out) {
  auto failures = phase.object("failures");
  auto times = phase.object("failed_metrics").and_then([](const Node& n) { return n.object("time_to_failure_ns"); });
  auto examples = phase.object("failure_examples");
  auto by_status = phase.object("failures_by_status");
  for (const auto* node : {&failures, &times, &examples, &by_status}) {
    if (!*node) {
      return fail(node->error());
    }
  }
  Reader counts(*failures);
  Reader histograms(*times);
  for (const auto failure : k_failure_classes) {
    const auto i = static_cast<std::size_t>(failure);
    counts.count(to_string(failure), out.failures_by_class[i]);
    histograms.histogram(to_string(failure), out.time_to_failure_ns[i]);
    if (const auto it = examples->value().find(to_string(failure)); it != examples->value().end()) {
      if (!it->is_string()) {
        return path_error(examples->path_of(to_string(failure)), fmt::format("got {}, expected a string", util::json_excerpt(*it)));
      }
      out.failure_examples[i] = it->get<std::string>();
    }
  }
  LLMD_TRY(counts.done());
  LLMD_TRY(histograms.done());
  for (const auto& [key, value] : by_status->value().items()) {
    int status = 0;
    const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), status);
    if (error != std::errc() || end != key.data() + key.size() || status < 100 || status > 999) {
      return path_error(by_status->path(), fmt::format("key \"{}\" is not an HTTP status", key));
    }
    auto count = uint_value(value, by_status->path_of(key));
    if (!count) {
      return fail(count.error());
    }
    out.failures_by_status[status] = *count;
  }
  return {};
}

Result<void> read_checks(const Node& phase, PhaseResult& out) {
  auto checks = phase.object("checks");
  if (!checks) {
    return fail(checks.error());
  }
  // Named as the scenario spelled them ("status-200") in a result file, canonically in to_json.
  for (const auto& [name, counts] : checks->value().items()) {
    const auto check = scenario::find_check(name);
    if (!check) {
      return path_error(checks->path_of(name), "not a check llmd-bench knows (status_200, non_empty_content, sse_content_type)");
    }
    const Node node(counts, checks->path_of(name));
    auto& into = out.check_counts[static_cast<std::size_t>(*check)];
    LLMD_TRY(Reader(node).count("passed", into.passed).count("failed", into.failed).done());
    out.checks.push_back(*check);
  }
  return {};
}

Result<void> read_turns(const Node& phase, PhaseResult& out) {
  auto turns = phase.array("turns");
  if (!turns) {
    return fail(turns.error());
  }
  for (std::size_t i = 0; i < turns->value().size(); ++i) {
    const Node node(turns->value()[i], fmt::format("{}[{}]", turns->path(), i));
    TurnStats turn;
    LLMD_TRY(Reader(node)
                 .count("ok", turn.ok)
                 .count("failed", turn.failed)
                 .count("aborted", turn.aborted)
                 .histogram("ttft_ns", turn.ttft_ns)
                 .count("prompt_tokens", turn.prompt_tokens)
                 .count("cached_tokens", turn.cached_tokens)
                 .count("responses_with_cached_tokens", turn.responses_with_cached_tokens)
                 .done());
    out.turns.push_back(std::move(turn));
  }
  return {};
}

// The columns of {"bucket_ms": 100, "ok": [...], "failed": [...]}.
Result<void> read_completions(const Node& phase, PhaseResult& out) {
  if (phase.has_null("completions_per_100ms")) {
    return {};  // results before the churn report had none
  }
  auto node = phase.object("completions_per_100ms");
  if (!node) {
    return fail(node.error());
  }
  std::uint64_t bucket_ms = 0;
  LLMD_TRY(Reader(*node).count("bucket_ms", bucket_ms).done());
  if (bucket_ms != static_cast<std::uint64_t>(k_completion_bucket.count())) {
    return path_error(node->path_of("bucket_ms"), fmt::format("got {}, expected {}", bucket_ms, k_completion_bucket.count()));
  }
  auto ok = node->array("ok");
  auto failed = node->array("failed");
  if (!ok || !failed) {
    return fail(!ok ? ok.error() : failed.error());
  }
  if (ok->value().size() != failed->value().size() || ok->value().size() > k_max_completion_buckets) {
    return path_error(node->path(), fmt::format("ok has {} entries and failed {}: expected as many, at most {}",
                                                ok->value().size(), failed->value().size(), k_max_completion_buckets));
  }
  out.completions_per_100ms.resize(ok->value().size());
  for (std::size_t i = 0; i < out.completions_per_100ms.size(); ++i) {
    auto ok_count = uint_value(ok->value()[i], fmt::format("{}[{}]", ok->path(), i));
    auto failed_count = uint_value(failed->value()[i], fmt::format("{}[{}]", failed->path(), i));
    if (!ok_count || !failed_count) {
      return fail(!ok_count ? ok_count.error() : failed_count.error());
    }
    out.completions_per_100ms[i] = {static_cast<std::uint32_t>(*ok_count), static_cast<std::uint32_t>(*failed_count)};
  }
  return {};
}

Result<void> read_trace(const Node& phase, PhaseResult& out) {
  if (phase.has_null("trace")) {
    return {};
  }
  auto node = phase.object("trace");
  if (!node) {
    return fail(node.error());
  }
  TraceReplay trace;
  LLMD_TRY(Reader(*node).count("records", trace.records).number("speedup", trace.speedup).done());
  auto offsets = node->array("started_offsets_ns");
  if (!offsets) {
    return fail(offsets.error());
  }
  for (std::size_t i = 0; i < offsets->value().size(); ++i) {
    const json& offset = offsets->value()[i];
    if (offset.is_null()) {
      trace.started_offsets_ns.emplace_back();
    } else if (offset.is_number_integer()) {
      trace.started_offsets_ns.emplace_back(offset.get<std::int64_t>());
    } else {
      return path_error(fmt::format("{}[{}]", offsets->path(), i), fmt::format("got {}, expected ns or null", util::json_excerpt(offset)));
    }
  }
  out.trace = std::move(trace);
  return {};
}

// The `summary` figures that are not derived from other fields.
Result<void> read_summary(const Node& phase, PhaseResult& out) {
  auto summary = phase.object("summary");
  if (!summary) {
    return fail(summary.error());
  }
  std::optional<std::uint64_t> input_tokens;
  std::optional<double> achieved_rate;
  Reader reader(*summary);
  reader.optional_count("input_tokens_total", input_tokens)
      .count("input_tokens_responses", out.responses_with_input_tokens)
      .optional_number("target_rate_per_second", out.target_rate_per_s)
      .optional_number("achieved_rate_per_second", achieved_rate)
      .optional_count("iterations_target", out.iterations_target);
  if (out.iterations_target) {
    reader.boolean("max_duration_reached", out.max_duration_reached);
  }
  LLMD_TRY(reader.done());
  out.input_tokens_total = input_tokens.value_or(0);
  if (!summary->has_null("prompt_tokens_accuracy")) {
    auto accuracy = summary->object("prompt_tokens_accuracy");
    if (!accuracy) {
      return fail(accuracy.error());
    }
    LLMD_TRY(Reader(*accuracy)
                 .count("generator_tokens", out.prompt_tokens_generator)
                 .count("server_tokens", out.prompt_tokens_server)
                 .count("responses", out.prompt_tokens_compared)
                 .done());
  }
  if (!phase.has_null("arrival_window_ns")) {
    std::chrono::nanoseconds window{};
    LLMD_TRY(Reader(phase).nanoseconds("arrival_window_ns", window).done());
    out.arrival_window = window;
  } else if (achieved_rate && *achieved_rate > 0) {
    out.arrival_window = std::chrono::nanoseconds(
        std::llround(static_cast<double>(out.started) / *achieved_rate * 1e9));  // an older result
  }
  return {};
}

Result<void> read_counters(const Node& phase, PhaseResult& out) {
  auto counts = phase.object("counts");
  auto delivery = phase.object("stream_delivery");
  auto backoff = phase.object("backoff");
  auto cached = phase.object("cached_tokens");
  for (const auto* node : {&counts, &delivery, &backoff, &cached}) {
    if (!*node) {
      return fail(node->error());
    }
  }
  LLMD_TRY(Reader(*counts)
               .count("started", out.started)
               .count("completed", out.completed)
               .count("ok", out.ok)
               .count("failed", out.failed)
               .count("dropped", out.dropped)
               .count("aborted", out.aborted)
               .done());
  LLMD_TRY(Reader(*delivery)
               .count("judged", out.streams_judged)
               .count("in_bursts", out.streams_in_bursts)
               .count("at_end", out.streams_at_end)
               .done());
  LLMD_TRY(Reader(*backoff)
               .count("retry_after_waits", out.backoff.retry_after_waits)
               .count("connect_error_waits", out.backoff.connect_error_waits)
               .count("waited_ns", out.backoff.waited_ns)
               .done());
  LLMD_TRY(Reader(*cached).count("total", out.cached_tokens_total).count("responses", out.responses_with_cached_tokens).done());
  Reader reader(phase);
  reader.count("output_tokens_total", out.output_tokens_total)
      .count("connections_opened", out.connections_opened)
      .count("peak_in_flight", out.peak_in_flight)
      .number("mean_in_flight", out.mean_in_flight)
      .nanoseconds("wall_duration_ns", out.wall_duration);
  if (!phase.has_null("started_at_ns")) {
    std::chrono::nanoseconds started_at{};
    reader.nanoseconds("started_at_ns", started_at);
    out.started_at = started_at;
  }
  return reader.done();
}

// `goodput`: null (or absent: a result written before goodput) without an SLO.
Result<void> read_goodput(const Node& phase, PhaseResult& out) {
  if (phase.has_null("goodput")) {
    return {};
  }
  auto goodput = phase.object("goodput");
  if (!goodput) {
    return fail(goodput.error());
  }
  auto slo_node = goodput->object("slo");
  auto missed = goodput->object("missed");
  for (const auto* node : {&slo_node, &missed}) {
    if (!*node) {
      return fail(node->error());
    }
  }
  scenario::Slo slo;
  const std::pair<std::string_view, std::optional<std::chrono::nanoseconds>*> objectives[] = {
      {"ttft_ns", &slo.ttft}, {"itl_ns", &slo.itl}, {"tpot_ns", &slo.tpot}, {"e2e_ns", &slo.e2e}};
  for (const auto& [key, value] : objectives) {
    if (!slo_node->has_null(key)) {
      std::chrono::nanoseconds limit{};
      LLMD_TRY(Reader(*slo_node).nanoseconds(key, limit).done());
      *value = limit;
    }
  }
  std::string stat;
  LLMD_TRY(Reader(*slo_node).text("itl_stat", stat).done());
  if (stat == "max") {
    slo.itl_stat = scenario::ItlStat::max;
  } else if (stat != "p95") {
    return path_error(slo_node->path_of("itl_stat"), fmt::format("got \"{}\", expected \"p95\" or \"max\"", stat));
  }
  out.slo = slo;
  LLMD_TRY(Reader(*goodput).count("good", out.goodput.good).count("good_output_tokens", out.goodput.good_output_tokens).done());
  return Reader(*missed)
      .count("ttft", out.goodput.missed_ttft)
      .count("itl", out.goodput.missed_itl)
      .count("tpot", out.goodput.missed_tpot)
      .count("e2e", out.goodput.missed_e2e)
      .done();
}

Result<void> read_metrics(const Node& phase, PhaseResult& out) {
  auto metrics = phase.object("metrics");
  if (!metrics) {
    return fail(metrics.error());
  }
  Reader reader(*metrics);
  for (const auto& field : k_phase_histogram_fields) {
    reader.histogram(field.key, out.histograms.*field.member);
  }
  return reader.done();
}

// "2026-12-02T19:55:12.345Z": what to_json writes (util::format_rfc3339).
Result<std::chrono::system_clock::time_point> read_time(const Node& node, std::string_view key) {
  std::string text;
  LLMD_TRY(Reader(node).text(key, text).done());
  auto when = util::parse_instant(text);
  if (!when) {
    return path_error(node.path_of(key), fmt::format("got \"{}\", expected RFC 3339 UTC like 2026-01-31T12:00:00.000Z", text));
  }
  return *when;
}

}  // namespace

Result<PhaseResult> phase_result_from_json(const json& value, const std::string& path) {
  const Node phase(value, path);
  PhaseResult out;
  LLMD_TRY(Reader(phase).text("name", out.name).done());
  LLMD_TRY(read_executor(phase, out));
  LLMD_TRY(read_counters(phase, out));
  LLMD_TRY(read_failures(phase, out));
  LLMD_TRY(read_checks(phase, out));
  LLMD_TRY(read_goodput(phase, out));
  LLMD_TRY(read_metrics(phase, out));
  LLMD_TRY(read_summary(phase, out));
  LLMD_TRY(read_turns(phase, out));
  LLMD_TRY(read_trace(phase, out));
  LLMD_TRY(read_completions(phase, out));
  return out;
}

Result<std::vector<SecondBucket>> per_second_from_json(const json& value, const std::string& path) {
  const Node node(value, path);
  std::uint64_t bucket_seconds = 0;
  LLMD_TRY(Reader(node).count("bucket_seconds", bucket_seconds).done());
  if (bucket_seconds != 1) {
    return path_error(node.path_of("bucket_seconds"), fmt::format("got {}, expected 1", bucket_seconds));
  }
  static constexpr std::array<const char*, 9> k_columns = {"started",        "ok",          "failed",
                                                           "output_tokens",  "peak_in_flight", "ttft_p50_ns",
                                                           "ttft_p95_ns",    "itl_p50_ns",  "itl_p95_ns"};
  std::array<const json*, k_columns.size()> columns{};
  for (std::size_t c = 0; c < k_columns.size(); ++c) {
    auto column = node.array(k_columns[c]);
    if (!column) {
      return fail(column.error());
    }
    columns[c] = &column->value();
    if (columns[c]->size() != columns[0]->size() || columns[c]->size() > k_max_seconds) {
      return path_error(column->path(), fmt::format("{} entries, expected {} like started (at most {})", columns[c]->size(),
                                                    columns[0]->size(), k_max_seconds));
    }
  }
  std::vector<SecondBucket> seconds(columns[0]->size());
  for (std::size_t s = 0; s < seconds.size(); ++s) {
    std::array<std::uint64_t, 5> counts{};
    for (std::size_t c = 0; c < counts.size(); ++c) {
      auto count = uint_value((*columns[c])[s], fmt::format("{}.{}[{}]", path, k_columns[c], s));
      if (!count) {
        return fail(count.error());
      }
      counts[c] = *count;
    }
    std::array<std::optional<double>, 4> percentiles;
    for (std::size_t c = 0; c < percentiles.size(); ++c) {
      const json& entry = (*columns[counts.size() + c])[s];
      if (entry.is_number()) {
        percentiles[c] = entry.get<double>();
      } else if (!entry.is_null()) {
        return path_error(fmt::format("{}.{}[{}]", path, k_columns[counts.size() + c], s),
                          fmt::format("got {}, expected a number or null", util::json_excerpt(entry)));
      }
    }
    const auto narrow = [](std::uint64_t n) { return static_cast<std::uint32_t>(std::min<std::uint64_t>(n, UINT32_MAX)); };
    seconds[s] = {narrow(counts[0]), narrow(counts[1]), narrow(counts[2]), counts[3], narrow(counts[4]),
                  percentiles[0],    percentiles[1],    percentiles[2],    percentiles[3]};
  }
  return seconds;
}

Result<RunResult> run_result_from_json(const json& value, const std::string& path) {
  const Node run(value, path);
  std::string schema;
  std::uint64_t version = 0;
  RunResult out;
  LLMD_TRY(Reader(run)
               .text("schema", schema)
               .count("version", version)
               .boolean("interrupted", out.interrupted)
               .boolean("aborted", out.aborted)
               .done());
  if (schema != k_run_result_schema || version != static_cast<std::uint64_t>(k_run_result_schema_version)) {
    return path_error(path, fmt::format("schema \"{}\" version {}, expected \"{}\" version {}", schema, version,
                                        k_run_result_schema, k_run_result_schema_version));
  }
  auto started_at = read_time(run, "started_at");
  auto ended_at = read_time(run, "ended_at");
  if (!started_at || !ended_at) {
    return fail(!started_at ? started_at.error() : ended_at.error());
  }
  out.started_at = *started_at;
  out.ended_at = *ended_at;
  auto phases = run.array("phases");
  auto total = run.object("total");
  if (!phases || !total) {
    return fail(!phases ? phases.error() : total.error());
  }
  for (std::size_t i = 0; i < phases->value().size(); ++i) {
    auto phase = phase_result_from_json(phases->value()[i], fmt::format("{}[{}]", phases->path(), i));
    if (!phase) {
      return fail(phase.error());
    }
    out.phases.push_back(std::move(*phase));
  }
  auto merged = phase_result_from_json(total->value(), total->path());
  if (!merged) {
    return fail(merged.error());
  }
  out.total = std::move(*merged);
  if (!run.has_null("per_second")) {
    auto seconds = per_second_from_json(value["per_second"], run.path_of("per_second"));
    if (!seconds) {
      return fail(seconds.error());
    }
    out.per_second = std::move(*seconds);
  }
  if (!run.has_null("threads")) {  // results before `--threads` had none
    auto threads = run.array("threads");
    if (!threads) {
      return fail(threads.error());
    }
    for (std::size_t i = 0; i < threads->value().size(); ++i) {
      const Node node(threads->value()[i], fmt::format("{}[{}]", threads->path(), i));
      EngineThread thread;
      Reader reader(node);
      if (node.value().contains("shard")) {  // merged results only
        std::size_t shard = 0;
        reader.count("shard", shard);
        thread.shard = shard;
      }
      LLMD_TRY(reader.count("thread", thread.index)
                   .count("started", thread.started)
                   .count("completed", thread.completed)
                   .cpu("cpu", thread.cpu)
                   .histogram("event_loop_lag_ns", thread.event_loop_lag_ns)
                   .done());
      out.threads.push_back(std::move(thread));
    }
  }
  LLMD_TRY(Reader(run).cpu("client_cpu", out.client_cpu).done());
  if (!run.has_null("http_client")) {  // results before it was recorded had none
    const Node node(value.at("http_client"), run.path_of("http_client"));
    Reader reader(node);
    reader.text("name", out.http_client).text("reason", out.http_client_reason);
    // reads / kernel_stamped_reads: absent from results written before receive stamps were counted;
    // waits / coalesced_waits / longest_pause_ns: before wake-ups were coalesced.
    auto& counts = out.http_counts;
    if (!node.has_null("reads")) {
      reader.count("reads", counts.reads).count("kernel_stamped_reads", counts.kernel_stamped_reads);
    }
    if (!node.has_null("waits")) {
      reader.count("waits", counts.waits)
          .count("coalesced_waits", counts.coalesced_waits)
          .count("longest_pause_ns", counts.longest_pause_ns);
    }
    LLMD_TRY(reader.done());
  }
  return out;
}

}  // namespace llmd::engine
