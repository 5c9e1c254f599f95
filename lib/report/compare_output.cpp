// The metric catalog, `--fail-on` gates (parse and judge) and the comparison's renderers: text, JSON, JUnit.
#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "report/compare.hpp"
#include "report/compare_catalog.hpp"
#include "report/junit_report.hpp"
#include "util/duration.hpp"

namespace llmd::report {

namespace {

using nlohmann::json;

std::vector<CompareMetric> build_catalog() {
  std::vector<CompareMetric> out;
  for (const auto& metric : k_histogram_metrics) {
    for (const auto& stat : k_histogram_stats) {
      out.push_back({fmt::format("{}.{}", metric.key, stat.name), metric.unit, metric.direction});
    }
  }
  for (const char* rate : {"http_req_failed", "http_req_cut", "stream_buffered"}) {
    out.push_back({rate, CompareUnit::ratio, Direction::lower_is_better});
  }
  out.push_back({"checks", CompareUnit::ratio, Direction::higher_is_better});
  for (const char* throughput : {"requests_per_second", "output_tokens_per_second", "total_tokens_per_second"}) {
    out.push_back({throughput, CompareUnit::number, Direction::higher_is_better});
  }
  for (const char* count : k_count_names) {
    out.push_back({fmt::format("counts.{}", count), CompareUnit::count, Direction::neutral});
  }
  for (const auto& metric : k_run_wide_metrics) {
    out.push_back({metric.key, metric.unit, metric.direction});
  }
  // The load generator's own cost (run.client_cpu), not the system under test's: neutral.
  out.push_back({"client_cpu_per_request", CompareUnit::seconds, Direction::neutral});
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  while (!text.empty() && text.back() == ' ') {
    text.remove_suffix(1);
  }
  return text;
}

const HistogramMetric* find_histogram_metric(std::string_view name) {
  const auto* it = std::find_if(k_histogram_metrics.begin(), k_histogram_metrics.end(),
                                [&](const HistogramMetric& m) { return m.key == name; });
  return it == k_histogram_metrics.end() ? nullptr : it;
}

// "ttft.p(95)" -> "ttft.p95", "itl.mean" -> "inter_token_latency.avg", "http_reqs" -> "counts.completed".
std::string canonical_metric(std::string_view text) {
  const auto dot = text.find('.');
  std::string name(text.substr(0, dot));
  std::string stat = dot == std::string_view::npos ? std::string() : std::string(text.substr(dot + 1));
  if (name == "itl") {
    name = "inter_token_latency";
  } else if (name == "http_reqs" && stat.empty()) {
    return "counts.completed";
  } else if (name == "dropped_requests" && stat.empty()) {
    return "counts.dropped";
  }
  if (stat.size() > 3 && stat.starts_with("p(") && stat.back() == ')') {
    stat = "p" + stat.substr(2, stat.size() - 3);
  } else if (stat == "mean") {
    stat = "avg";
  } else if (stat == "med") {
    stat = "p50";
  }
  return stat.empty() ? name : name + "." + stat;
}

std::string metric_error(std::string_view source, const std::string& key) {
  const std::string name = key.substr(0, key.find('.'));
  if (find_histogram_metric(name) != nullptr) {
    return fmt::format("--fail-on \"{}\": {} needs one of the statistics p50, p90, p95, p99, avg (e.g. \"{}.p95>+10%\")",
                       source, name, name);
  }
  std::vector<std::string> names;
  for (const auto& metric : k_histogram_metrics) {
    names.push_back(fmt::format("{}.pNN|avg", metric.key));
  }
  for (const auto& metric : compare_metrics()) {
    if (find_histogram_metric(metric.key.substr(0, metric.key.find('.'))) == nullptr) {
      names.push_back(metric.key);
    }
  }
  return fmt::format("--fail-on \"{}\": unknown metric \"{}\"; valid: {}", source, key, fmt::join(names, ", "));
}

// "+10%", "-2pp", "+50ms", "3": sets gate.kind and gate.limit.
util::Result<void> parse_change(std::string_view source, std::string_view text, const CompareMetric& metric, Gate& gate) {
  const std::string usage = fmt::format("--fail-on \"{}\": ", source);
  double sign = 1;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    sign = text.front() == '-' ? -1 : 1;
    text.remove_prefix(1);
  }
  double number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  const std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
  if (ec != std::errc() || !std::isfinite(number)) {
    return util::fail(usage + "the change after the operator must be a number with %, pp or a duration unit, "
                              "e.g. \"+10%\", \"-2pp\", \"+50ms\"");
  }
  if (suffix == "%") {
    gate.kind = Gate::ChangeKind::relative;
    gate.limit = sign * number / 100;
  } else if (suffix == "pp") {
    if (metric.unit != CompareUnit::ratio) {
      return util::fail(usage + fmt::format("pp (percentage points) is for rates and ratios; {} changes by "
                                            "a relative amount, e.g. \"{}>+10%\"", metric.key, metric.key));
    }
    gate.kind = Gate::ChangeKind::points;
    gate.limit = sign * number / 100;
  } else if (metric.unit == CompareUnit::seconds) {
    auto duration = util::parse_duration(text);
    if (!duration) {
      return util::fail(usage + fmt::format("{} is a time: write a relative change (\"+10%\") or a duration "
                                            "with its unit (\"+50ms\")", metric.key));
    }
    gate.kind = Gate::ChangeKind::absolute;
    gate.limit = sign * std::chrono::duration<double>(*duration).count();
  } else if (!suffix.empty() || metric.unit == CompareUnit::ratio) {
    return util::fail(usage + fmt::format("{} takes a change in % or{} an absolute number, e.g. \"{}<-5%\"", metric.key,
                                          metric.unit == CompareUnit::ratio ? " pp, not" : "", metric.key));
  } else {
    gate.kind = Gate::ChangeKind::absolute;
    gate.limit = sign * number;
  }
  return {};
}

std::string format_value(CompareUnit unit, const std::optional<double>& value) {
  if (!value) {
    return "-";
  }
  switch (unit) {
    case CompareUnit::seconds: return util::format_seconds_fixed(*value);
    case CompareUnit::ratio: return fmt::format("{:.2f}%", *value * 100);
    case CompareUnit::count: return fmt::format("{:.0f}", *value);
    case CompareUnit::number: return fmt::format("{:.2f}", *value);
  }
  return "-";
}

std::string format_change(Gate::ChangeKind kind, CompareUnit unit, double change) {
  switch (kind) {
    case Gate::ChangeKind::relative: return fmt::format("{:+.1f}%", change * 100);
    case Gate::ChangeKind::points: return fmt::format("{:+.2f}pp", change * 100);
    case Gate::ChangeKind::absolute:
      if (unit == CompareUnit::seconds) {
        return (change < 0 ? "-" : "+") + util::format_seconds(std::fabs(change));
      }
      return fmt::format("{:+g}", change);
  }
  return "";
}

Gate::ChangeKind row_change_kind(CompareUnit unit) {
  return unit == CompareUnit::ratio   ? Gate::ChangeKind::points
         : unit == CompareUnit::count ? Gate::ChangeKind::absolute
                                      : Gate::ChangeKind::relative;
}

std::string row_change_text(const MetricRow& row) {
  return row.change ? format_change(row_change_kind(row.unit), row.unit, *row.change) : "-";
}

const MetricRow* find_row(const CompareSection& section, std::string_view key) {
  const auto it = std::find_if(section.rows.begin(), section.rows.end(), [&](const MetricRow& r) { return r.key == key; });
  return it == section.rows.end() ? nullptr : &*it;
}

GateResult judge(const Gate& gate, const MetricRow* row) {
  GateResult result{gate, false, std::nullopt, ""};
  if (row == nullptr || !row->baseline || !row->current) {
    result.reason = fmt::format("no data: {}", row == nullptr ? "neither run measured " + gate.metric : row->why);
    return result;
  }
  const double b = *row->baseline;
  const double c = *row->current;
  if (gate.kind != Gate::ChangeKind::relative) {
    result.change = c - b;
  } else if (b != 0) {
    result.change = (c - b) / std::fabs(b);
  } else if (c == 0) {
    result.change = 0.0;
  } else {
    result.reason = fmt::format("no data: baseline {} is 0, a relative change is undefined (gate on an absolute change)", gate.metric);
    return result;
  }
  const double x = *result.change;
  const bool beyond = gate.greater ? (gate.inclusive ? x >= gate.limit : x > gate.limit)
                                   : (gate.inclusive ? x <= gate.limit : x < gate.limit);
  result.passed = !beyond;
  result.reason = fmt::format("{} {} ({} -> {}); fails when {}{} {}", gate.metric, format_change(gate.kind, row->unit, x),
                              format_value(row->unit, b), format_value(row->unit, c), gate.greater ? ">" : "<",
                              gate.inclusive ? "=" : "", format_change(gate.kind, row->unit, gate.limit));
  return result;
}

json optional_number(const std::optional<double>& value) { return value ? json(*value) : json(nullptr); }

std::string_view significance_name(Significance s) {
  switch (s) {
    case Significance::not_tested: return "not_tested";
    case Significance::no_change: return "no_change";
    case Significance::up: return "up";
    case Significance::down: return "down";
    case Significance::missing: return "n/a";
  }
  return "";
}

}  // namespace

const std::vector<CompareMetric>& compare_metrics() {
  static const std::vector<CompareMetric> catalog = build_catalog();
  return catalog;
}

const CompareMetric* find_compare_metric(std::string_view key) {
  const auto& catalog = compare_metrics();
  const auto it = std::find_if(catalog.begin(), catalog.end(), [&](const CompareMetric& m) { return m.key == key; });
  return it == catalog.end() ? nullptr : &*it;
}

util::Result<Gate> parse_gate(std::string_view source) {
  const std::string_view text = trim(source);
  const auto op = text.find_first_of("<>");
  if (op == std::string_view::npos || op == 0) {
    return util::fail(fmt::format("--fail-on \"{}\": expected METRIC OP CHANGE, e.g. \"ttft.p95>+10%\" or "
                                  "\"cache_hit_rate<-2pp\"", source));
  }
  Gate gate;
  gate.source = std::string(source);
  gate.greater = text[op] == '>';
  gate.inclusive = op + 1 < text.size() && text[op + 1] == '=';
  gate.metric = canonical_metric(trim(text.substr(0, op)));
  const auto* metric = find_compare_metric(gate.metric);
  if (metric == nullptr) {
    return util::fail(metric_error(source, gate.metric));
  }
  LLMD_TRY(parse_change(source, trim(text.substr(op + (gate.inclusive ? 2 : 1))), *metric, gate));
  return gate;
}

void evaluate_gates(const std::vector<Gate>& gates, const CompareSection* phase, const CompareSection& total,
                    std::vector<GateResult>& out) {
  for (const auto& gate : gates) {
    const MetricRow* row = phase != nullptr ? find_row(*phase, gate.metric) : nullptr;
    out.push_back(judge(gate, row != nullptr ? row : find_row(total, gate.metric)));
  }
}

std::string significance_text(const MetricRow& row) {
  const auto judged = [&](std::string_view way) {
    if (row.direction == Direction::neutral) {
      return std::string(way);
    }
    const bool better = (way == "up") == (row.direction == Direction::higher_is_better);
    return fmt::format("{} ({})", way, better ? "better" : "worse");
  };
  switch (row.significance) {
    case Significance::not_tested: return "";
    case Significance::no_change: return "within noise";
    case Significance::up: return judged("up");
    case Significance::down: return judged("down");
    case Significance::missing: return "n/a: " + row.why;
  }
  return "";
}

std::string render_comparison_text(const Comparison& c) {
  std::string out = fmt::format("compare: baseline {} (verdict {}) vs current {} (verdict {})\n", c.baseline_name,
                                c.baseline_verdict, c.current_name, c.current_verdict);
  for (const auto& section : c.sections) {
    out += fmt::format("\n{:<30} {:>12} {:>12} {:>10}  {}\n", section.name == "total" ? "total" : "phase " + section.name,
                       "baseline", "current", "change", "significance");
    for (const auto& row : section.rows) {
      out += fmt::format("  {:<28} {:>12} {:>12} {:>10}  {}\n", row.key, format_value(row.unit, row.baseline),
                         format_value(row.unit, row.current), row_change_text(row), significance_text(row));
    }
  }
  for (const auto& [names, where] : {std::pair{&c.phases_only_in_baseline, "baseline"}, std::pair{&c.phases_only_in_current, "current"}}) {
    if (!names->empty()) {
      out += fmt::format("\nphases only in {}: {}\n", where, fmt::join(*names, ", "));
    }
  }
  if (!c.gates.empty()) {
    out += "\ngates\n";
    for (const auto& gate : c.gates) {
      out += fmt::format("  {} {}: {}\n", gate.passed ? "\u2713" : "\u2717", gate.gate.source, gate.reason);
    }
  }
  out += c.regression() ? fmt::format("compare: REGRESSION ({} of {} gates failed)\n", c.gates_failed(), c.gates.size())
                        : std::string("compare: OK\n");
  return out;
}

json comparison_to_json(const Comparison& c) {
  json sections = json::array();
  for (const auto& section : c.sections) {
    json rows = json::array();
    for (const auto& row : section.rows) {
      rows.push_back({{"metric", row.key},
                      {"baseline", optional_number(row.baseline)},
                      {"current", optional_number(row.current)},
                      {"change", optional_number(row.change)},
                      {"change_kind", row.unit == CompareUnit::ratio   ? "points"
                                      : row.unit == CompareUnit::count ? "absolute"
                                                                       : "relative"},
                      {"significance", significance_name(row.significance)},
                      {"hint", significance_text(row)},
                      {"detail", row.detail}});
    }
    sections.push_back({{"name", section.name}, {"rows", std::move(rows)}});
  }
  json gates = json::array();
  for (const auto& g : c.gates) {
    gates.push_back({{"source", g.gate.source}, {"metric", g.gate.metric}, {"passed", g.passed},
                     {"change", optional_number(g.change)}, {"reason", g.reason}});
  }
  return {{"schema", k_comparison_schema},
          {"version", k_comparison_schema_version},
          {"baseline", {{"file", c.baseline_name}, {"verdict", c.baseline_verdict}}},
          {"current", {{"file", c.current_name}, {"verdict", c.current_verdict}}},
          {"sections", std::move(sections)},
          {"phases_only_in_baseline", c.phases_only_in_baseline},
          {"phases_only_in_current", c.phases_only_in_current},
          {"gates", std::move(gates)},
          {"gates_failed", c.gates_failed()},
          {"regression", c.regression()}};
}

std::string render_comparison_junit(const Comparison& c) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuite name=\"llmd-bench compare\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">\n",
                     c.gates.size(), c.gates_failed());
  for (const auto& g : c.gates) {
    out += fmt::format("  <testcase classname=\"llmd-bench.compare\" name=\"gate: {}\">\n", xml_escape(g.gate.source));
    if (!g.passed) {
      out += fmt::format("    <failure message=\"{}\" type=\"compare\">{}</failure>\n", xml_escape(g.reason), xml_escape(g.reason));
    }
    out += fmt::format("    <system-out>{}</system-out>\n",
                       xml_escape(fmt::format("baseline: {}\ncurrent: {}\nresult: {}\n", c.baseline_name, c.current_name, g.reason)));
    out += "  </testcase>\n";
  }
  out += "</testsuite>\n";
  return out;
}

std::string compare_value_text(CompareUnit unit, const std::optional<double>& value) { return format_value(unit, value); }

std::string compare_change_text(const MetricRow& row) { return row_change_text(row); }

}  // namespace llmd::report
