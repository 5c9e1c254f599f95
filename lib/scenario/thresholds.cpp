#include "scenario/thresholds.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "util/duration.hpp"

namespace llmd::scenario {

namespace {

using util::fail;

constexpr std::array<MetricInfo, 25> k_metrics = {{
    {"ttft", "", MetricKind::time, "time to first token: request sent -> first generated token"},
    {"inter_token_latency", "itl", MetricKind::time, "gap between consecutive generated tokens (streaming)"},
    {"http_req_duration", "", MetricKind::time, "end-to-end request duration: request sent -> last byte"},
    {"time_to_first_byte", "", MetricKind::time, "request sent -> first response byte"},
    {"time_to_first_event", "", MetricKind::time, "request sent -> first SSE event (which may carry no token)"},
    {"tokens_per_second", "", MetricKind::trend, "per-request output tokens per second of generation"},
    {"output_tokens", "", MetricKind::trend, "output tokens per request"},
    {"http_reqs", "", MetricKind::counter, "requests completed: count, or rate per second of the run"},
    {"http_req_failed", "", MetricKind::rate,
     "fraction of requests that failed or were aborted (HTTP or transport error, error event, cut stream, aborted at graceful_stop)"},
    {"http_req_cut", "", MetricKind::rate,
     "fraction of requests cut before their end: streams without [DONE] (stream_cut) plus requests aborted at graceful_stop"},
    {"stream_buffered", "", MetricKind::rate,
     "fraction of streamed ok requests (>= 4 tokens) whose tokens arrived in bursts or all at the end (a buffering proxy)"},
    {"dropped_requests", "", MetricKind::counter, "open-loop requests that could not start on time (max_in_flight reached)"},
    {"goodput", "", MetricKind::counter,
     "good requests (ok and within every `slo:` objective): count, or rate per second of the run"},
    {"good_fraction", "", MetricKind::rate,
     "fraction of the requests asked for that were good: good / (ok + failed + aborted + dropped); needs `slo:`"},
    {"checks", "", MetricKind::rate, "fraction of checks that passed"},
    {"cache_hit_rate", "", MetricKind::ratio, "prefix-cache hit rate of the run: hit tokens / queried tokens, all pods"},
    {"max_pod_share", "", MetricKind::ratio, "largest fraction of the run's finished requests served by a single pod"},
    {"max_pod_query_share", "", MetricKind::ratio, "largest fraction of the run's prefix-cache queries (tokens) on a single pod"},
    {"schedule_lag", "", MetricKind::time, "open loop: how late requests started compared with their schedule"},
    {"event_loop_lag", "", MetricKind::time, "how late the client's event loop handled a due timer (client overhead)"},
    {"routing_efficiency", "", MetricKind::ratio,
     "measured prefix-cache hit rate / the workload's ideal hit rate (1 = routing lost no reuse)"},
    {"affinity", "", MetricKind::trend,
     "per prefix group: share of its requests on its most-used pod (needs a served-by response header)"},
    {"pod_switches", "", MetricKind::trend,
     "per prefix group: times consecutive requests moved to another pod (needs a served-by response header)"},
    {"load_imbalance_cv", "", MetricKind::gauge,
     "coefficient of variation of requests per pod (0 = even; served-by header, else the pods' request counters)"},
    {"cache_recovery_time", "", MetricKind::time,
     "churn events: time until the fleet hit rate is back within 5 points of its pre-event level (largest over the events)"},
}};

constexpr std::array<std::pair<std::string_view, AggregationKind>, 7> k_aggregation_names = {{
    {"avg", AggregationKind::avg},
    {"min", AggregationKind::min},
    {"max", AggregationKind::max},
    {"med", AggregationKind::med},
    {"rate", AggregationKind::rate},
    {"count", AggregationKind::count},
    {"value", AggregationKind::value},
}};

// Two-character operators first, so "<=" is not read as "<" followed by "=".
constexpr std::array<std::pair<std::string_view, Comparison>, 6> k_operators = {{
    {"<=", Comparison::less_equal},
    {">=", Comparison::greater_equal},
    {"==", Comparison::equal},
    {"!=", Comparison::not_equal},
    {"<", Comparison::less},
    {">", Comparison::greater},
}};

constexpr std::string_view k_operator_chars = "<>=!";

bool takes(MetricKind kind, AggregationKind aggregation) {
  switch (kind) {
    case MetricKind::time:
    case MetricKind::trend:
      return aggregation == AggregationKind::avg || aggregation == AggregationKind::min ||
             aggregation == AggregationKind::max || aggregation == AggregationKind::med ||
             aggregation == AggregationKind::percentile;
    case MetricKind::rate: return aggregation == AggregationKind::rate;
    case MetricKind::counter: return aggregation == AggregationKind::count || aggregation == AggregationKind::rate;
    case MetricKind::ratio:
    case MetricKind::gauge: return aggregation == AggregationKind::value;
  }
  return false;
}

// "ttft (a time metric) takes avg, min, max, med or p(N), e.g. "p(95)<2s"".
std::string what_it_takes(const MetricInfo& metric) {
  std::string_view takes_text;
  std::string_view example;
  switch (metric.kind) {
    case MetricKind::time: takes_text = "avg, min, max, med or p(N)"; example = "p(95)<2s"; break;
    case MetricKind::trend: takes_text = "avg, min, max, med or p(N)"; example = "avg>30"; break;
    case MetricKind::rate: takes_text = "rate"; example = "rate<0.05"; break;
    case MetricKind::counter: takes_text = "count or rate"; example = "count>100"; break;
    case MetricKind::ratio: takes_text = "value, or no aggregation at all"; example = ">=0.9"; break;
    case MetricKind::gauge: takes_text = "value, or no aggregation at all"; example = "<0.2"; break;
  }
  return fmt::format("{} (a {} metric) takes {}, e.g. \"{}\"", metric.name, to_string(metric.kind), takes_text, example);
}

std::string_view trim_front(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  return text;
}

std::string_view trim(std::string_view text) {
  text = trim_front(text);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// `word` is the text before the operator: "avg", "p(95)", "" (short form).
util::Result<Aggregation> parse_aggregation(std::string_view source, std::string_view word, const MetricInfo& metric) {
  if (word.empty()) {
    if (metric.kind != MetricKind::ratio && metric.kind != MetricKind::gauge) {
      return fail(fmt::format("\"{}\": missing aggregation; {}", source, what_it_takes(metric)));
    }
    return Aggregation{AggregationKind::value, 0};
  }
  Aggregation aggregation;
  if (word.substr(0, 2) == "p(") {
    const auto percentile = word.back() == ')' ? parse_number(word.substr(2, word.size() - 3)) : std::nullopt;
    if (!percentile || *percentile < 0 || *percentile > 100) {
      return fail(fmt::format("\"{}\": \"{}\" is not a percentile; expected p(N) with 0 <= N <= 100, e.g. p(95)", source, word));
    }
    aggregation = {AggregationKind::percentile, *percentile};
  } else {
    bool known = false;
    for (const auto& [name, kind] : k_aggregation_names) {
      if (word == name) {
        aggregation = {kind, 0};
        known = true;
      }
    }
    if (!known) {
      return fail(fmt::format("\"{}\": unknown aggregation \"{}\"; {}", source, word, what_it_takes(metric)));
    }
  }
  if (!takes(metric.kind, aggregation.kind)) {
    return fail(fmt::format("\"{}\": aggregation \"{}\" does not apply here; {}", source, word, what_it_takes(metric)));
  }
  return aggregation;
}

util::Result<double> parse_limit(std::string_view source, std::string_view text, const MetricInfo& metric,
                                 const Aggregation& aggregation) {
  if (text.empty()) {
    return fail(fmt::format("\"{}\": missing value after the operator", source));
  }
  if (metric.kind == MetricKind::time) {
    auto duration = util::parse_duration(text);
    if (!duration) {
      return fail(fmt::format("\"{}\": {}", source, duration.error()));
    }
    return std::chrono::duration<double>(*duration).count();
  }
  const auto number = parse_number(text);
  if (!number) {
    return fail(fmt::format("\"{}\": value \"{}\" is not a number", source, text));
  }
  const bool fraction = metric.kind == MetricKind::ratio ||
                        (metric.kind == MetricKind::rate && aggregation.kind == AggregationKind::rate);
  if (fraction && (*number < 0 || *number > 1)) {
    return fail(fmt::format("\"{}\": {} is a fraction between 0 and 1 (0.05 = 5%), got {}", source, metric.name, text));
  }
  return *number;
}

}  // namespace

std::string_view to_string(MetricKind kind) {
  switch (kind) {
    case MetricKind::time: return "time";
    case MetricKind::trend: return "trend";
    case MetricKind::rate: return "rate";
    case MetricKind::counter: return "counter";
    case MetricKind::ratio: return "ratio";
    case MetricKind::gauge: return "gauge";
  }
  return "?";
}

std::span<const MetricInfo> metric_table() { return k_metrics; }

const MetricInfo* find_metric(std::string_view name) {
  for (const MetricInfo& metric : k_metrics) {
    if (name == metric.name || (!metric.alias.empty() && name == metric.alias)) {
      return &metric;
    }
  }
  return nullptr;
}

std::string valid_metric_names() {
  std::string out;
  for (const MetricInfo& metric : k_metrics) {
    out += out.empty() ? "" : ", ";
    out += metric.name;
    if (!metric.alias.empty()) {
      out += fmt::format(" ({})", metric.alias);
    }
  }
  return out;
}

std::string to_string(const Aggregation& aggregation) {
  if (aggregation.kind == AggregationKind::percentile) {
    return fmt::format("p({})", aggregation.percentile);
  }
  for (const auto& [name, kind] : k_aggregation_names) {
    if (kind == aggregation.kind) {
      return std::string(name);
    }
  }
  return "?";
}

std::string_view to_string(Comparison comparison) {
  for (const auto& [text, value] : k_operators) {
    if (value == comparison) {
      return text;
    }
  }
  return "?";
}

util::Result<Threshold> parse_threshold(std::string_view metric_name, std::string_view source) {
  const MetricInfo* metric = find_metric(metric_name);
  if (metric == nullptr) {
    return fail(fmt::format("unknown metric \"{}\"; valid metrics: {}", metric_name, valid_metric_names()));
  }
  const std::string_view text = trim(source);
  if (text.empty()) {
    return fail(fmt::format("empty threshold; {}", what_it_takes(*metric)));
  }
  // The aggregation word runs to the first operator character or blank: "p(95)", "avg", "" (short form).
  const std::size_t word_end = std::min(text.find_first_of(k_operator_chars), text.find_first_of(" \t"));
  const std::string_view word = text.substr(0, word_end);
  auto aggregation = parse_aggregation(source, word, *metric);
  if (!aggregation) {
    return fail(aggregation.error());
  }
  std::string_view rest = word_end == std::string_view::npos ? std::string_view() : trim_front(text.substr(word_end));
  if (rest.empty() || k_operator_chars.find(rest.front()) == std::string_view::npos) {
    return fail(fmt::format("\"{}\": expected an operator (<, <=, >, >=, ==, !=) after \"{}\"", source, word));
  }
  Threshold threshold{std::string(metric->name), "", "", std::string(source), {}, *aggregation, Comparison::less, 0};
  bool matched = false;
  for (const auto& [op, comparison] : k_operators) {
    if (rest.substr(0, op.size()) == op) {
      threshold.comparison = comparison;
      rest.remove_prefix(op.size());
      matched = true;
      break;
    }
  }
  if (!matched) {  // a lone '=' or '!'
    return fail(fmt::format("\"{}\": unknown operator at \"{}\"; expected <, <=, >, >=, == or !=", source, rest));
  }
  auto limit = parse_limit(source, trim_front(rest), *metric, *aggregation);
  if (!limit) {
    return fail(limit.error());
  }
  threshold.limit = *limit;
  return threshold;
}

std::string_view to_string(ThresholdSeverity severity) {
  return severity == ThresholdSeverity::warn ? "warn" : "fail";
}

std::string display_name(const Threshold& threshold) {
  if (!threshold.pod.empty()) {
    return fmt::format("{}{{pod:{}}}", threshold.metric, threshold.pod);
  }
  return threshold.check.empty() ? threshold.metric : fmt::format("{}{{check:{}}}", threshold.metric, threshold.check);
}

bool takes_pod_filter(std::string_view metric) {
  return metric == "ttft" || metric == "inter_token_latency" || metric == "http_req_duration";
}

std::string label(const Threshold& threshold) { return fmt::format("{} {}", display_name(threshold), threshold.source); }

util::Result<ThresholdKey> parse_threshold_key(std::string_view written) {
  const std::string_view key = trim(written);
  const std::size_t brace = key.find('{');
  if (brace == std::string_view::npos) {
    const MetricInfo* metric = find_metric(key);
    if (metric == nullptr) {
      return fail(fmt::format("unknown metric \"{}\"; valid metrics: {}", key, valid_metric_names()));
    }
    return ThresholdKey{metric, "", ""};
  }
  // k6's tag filters, for the tags llmd-bench has: checks{check:NAME}, and {pod:NAME} on the
  // per-request latencies (the pod a served-by response header named).
  const std::string_view metric = trim(key.substr(0, brace));
  std::string_view filter = key.substr(brace + 1);
  constexpr std::string_view k_usage =
      "a tag filter is supported only as checks{check:NAME} or ttft / inter_token_latency / http_req_duration "
      "{pod:NAME}, e.g. checks{check:status_200}, ttft{pod:sim-pod-0}";
  const MetricInfo* info = find_metric(metric);
  const bool checks = metric == "checks";
  if ((!checks && (info == nullptr || !takes_pod_filter(info->name))) || filter.empty() || filter.back() != '}') {
    return fail(fmt::format("\"{}\": {}", key, k_usage));
  }
  filter = trim(filter.substr(0, filter.size() - 1));
  const std::size_t colon = filter.find(':');
  const std::string_view tag = colon == std::string_view::npos ? std::string_view() : trim(filter.substr(0, colon));
  if (colon == std::string_view::npos || tag != (checks ? "check" : "pod") || trim(filter.substr(colon + 1)).empty()) {
    return fail(fmt::format("\"{}\": {}", key, k_usage));
  }
  const std::string value(trim(filter.substr(colon + 1)));
  return checks ? ThresholdKey{info, value, ""} : ThresholdKey{info, "", value};
}

bool is_cache_metric(std::string_view metric) {
  return metric == "cache_hit_rate" || metric == "max_pod_share" || metric == "max_pod_query_share" ||
         metric == "routing_efficiency" || metric == "cache_recovery_time";
}

bool is_post_run_metric(std::string_view metric) {
  return is_cache_metric(metric) || metric == "affinity" || metric == "pod_switches" || metric == "load_imbalance_cv";
}

ThresholdResult evaluate(const Threshold& threshold, const MetricLookup& lookup) {
  ThresholdResult result;
  const auto observed = !threshold.check.empty() ? lookup.check_rate(threshold.check)
                        : !threshold.pod.empty()  ? lookup.pod_value(threshold.pod, threshold.metric, threshold.aggregation)
                                                  : lookup.value(threshold.metric, threshold.aggregation);
  if (!observed || !std::isfinite(*observed)) {
    result.reason = "no data";
    return result;
  }
  const double value = *observed;
  const double limit = threshold.limit;
  switch (threshold.comparison) {
    case Comparison::less: result.passed = value < limit; break;
    case Comparison::less_equal: result.passed = value <= limit; break;
    case Comparison::greater: result.passed = value > limit; break;
    case Comparison::greater_equal: result.passed = value >= limit; break;
    case Comparison::equal: result.passed = value == limit; break;
    case Comparison::not_equal: result.passed = value != limit; break;
  }
  result.observed = value;
  const MetricInfo* metric = find_metric(threshold.metric);
  const MetricKind kind = metric != nullptr ? metric->kind : MetricKind::trend;
  const std::string subject = threshold.aggregation.kind == AggregationKind::value
                                  ? display_name(threshold)
                                  : fmt::format("{} {}", display_name(threshold), to_string(threshold.aggregation));
  result.reason = fmt::format("{} = {}; required {} {}", subject, format_metric_value(kind, value),
                              to_string(threshold.comparison), format_metric_value(kind, limit));
  if (auto why = lookup.distrust(threshold.metric)) {
    result.passed = false;
    result.reason = fmt::format("{} = {}, not trusted: {}", subject, format_metric_value(kind, value), *why);
  }
  return result;
}

std::string format_metric_value(MetricKind kind, double value) {
  if (kind == MetricKind::time) {
    return util::format_seconds(value);
  }
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
    return fmt::format("{:.0f}", value);
  }
  return fmt::format("{:.4g}", value);
}

}  // namespace llmd::scenario
