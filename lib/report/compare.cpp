// The comparison itself: rows of every metric of two run results, with their significance hints
// (statistics in compare.hpp). Gates and renderers: compare_output.cpp.
#include "report/compare.hpp"

#include <algorithm>
#include <cmath>
#include <span>

#include <fmt/format.h>

#include "report/compare_catalog.hpp"
#include "report/json_report.hpp"
#include "stats/histogram.hpp"
#include "util/duration.hpp"

namespace llmd::report {

namespace {

using nlohmann::json;

constexpr double k_z_95 = 1.96;  // two-sided 95%

// A number at `path` below `root` (keys), or nullopt when any step is missing, null or not a number.
std::optional<double> number_at(const json& root, std::span<const char* const> path) {
  const json* node = &root;
  for (const char* key : path) {
    if (!node->is_object() || !node->contains(key)) {
      return std::nullopt;
    }
    node = &(*node)[key];
  }
  return node->is_number() ? std::optional<double>(node->get<double>()) : std::nullopt;
}

std::optional<double> number_at(const json& root, std::initializer_list<const char*> path) {
  return number_at(root, std::span<const char* const>(path.begin(), path.size()));
}

// The string at `key` of `object`, or `fallback` when it is missing or no string.
std::string string_at(const json& object, const char* key, const std::string& fallback) {
  return object.is_object() && object.contains(key) && object[key].is_string() ? object[key].get<std::string>() : fallback;
}

// The two sides of one row, before the hint.
struct Sides {
  std::optional<double> baseline;
  std::optional<double> current;
};

MetricRow make_row(std::string key, Sides sides) {
  MetricRow row;
  row.key = std::move(key);
  const auto* info = find_compare_metric(row.key);
  row.unit = info->unit;
  row.direction = info->direction;
  row.baseline = sides.baseline;
  row.current = sides.current;
  if (sides.baseline && sides.current) {
    const double b = *sides.baseline;
    const double c = *sides.current;
    if (row.unit == CompareUnit::ratio || row.unit == CompareUnit::count) {
      row.change = c - b;
    } else if (b != 0) {
      row.change = (c - b) / std::fabs(b);
    } else if (c == 0) {
      row.change = 0.0;
    }
  }
  return row;
}

void mark_missing(MetricRow& row, const std::string& why) {
  row.significance = Significance::missing;
  row.why = why;
}

// up/down from the sign of `delta`, or no_change when `significant` is false.
Significance hint(bool significant, double delta) {
  if (!significant || delta == 0) {
    return Significance::no_change;
  }
  return delta > 0 ? Significance::up : Significance::down;
}

// --- histograms ---------------------------------------------------------------------------------

struct Interval {
  double low = 0;
  double high = 0;
};

// Distribution-free 95% confidence interval of the q-quantile from order statistics, in the
// histogram's unit, widened by its bucket error.
Interval percentile_interval(const stats::LogLinearHistogram& h, double q) {
  const double n = static_cast<double>(h.count());
  const double half = k_z_95 * std::sqrt(n * q * (1 - q));
  const double low_rank = std::clamp(std::floor(n * q - half), 1.0, n);
  const double high_rank = std::clamp(std::ceil(n * q + half), 1.0, n);
  const double error = h.layout().max_relative_error();
  return {*h.percentile(100 * low_rank / n) * (1 - error), *h.percentile(100 * high_rank / n) * (1 + error)};
}

// Variance of the recorded values, each taken at its bucket's midpoint.
double bucket_variance(const stats::LogLinearHistogram& h) {
  if (h.count() < 2) {
    return 0;
  }
  const double mean = *h.mean();
  double sum = 0;
  const auto counts = h.bucket_counts();
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] != 0) {
      const double d = h.layout().bucket_midpoint(i) - mean;
      sum += static_cast<double>(counts[i]) * d * d;
    }
  }
  return sum / static_cast<double>(h.count() - 1);
}

std::optional<stats::LogLinearHistogram> histogram_at(const json& phase, const char* json_key) {
  const json* metrics = phase.is_object() && phase.contains("metrics") ? &phase["metrics"] : nullptr;
  if (metrics == nullptr || !metrics->contains(json_key) || !(*metrics)[json_key].contains("histogram")) {
    return std::nullopt;
  }
  auto h = stats::LogLinearHistogram::from_json((*metrics)[json_key]["histogram"]);
  if (!h || h->count() == 0) {
    return std::nullopt;
  }
  return std::move(*h);
}

void add_histogram_rows(const HistogramMetric& metric, const json& baseline, const json& current,
                        std::vector<MetricRow>& rows) {
  const auto b = histogram_at(baseline, metric.json_key);
  const auto c = histogram_at(current, metric.json_key);
  if (!b && !c) {
    return;  // neither run measured it (schedule_lag of a closed loop): no row
  }
  const auto format = [&](double value) {
    return metric.unit == CompareUnit::seconds ? util::format_seconds(value * metric.scale)
                                               : fmt::format("{:.4g}", value * metric.scale);
  };
  for (const auto& stat : k_histogram_stats) {
    const auto value = [&](const std::optional<stats::LogLinearHistogram>& h) -> std::optional<double> {
      if (!h) {
        return std::nullopt;
      }
      return (stat.quantile ? h->percentile(*stat.quantile * 100) : h->mean()).value() * metric.scale;
    };
    MetricRow row = make_row(fmt::format("{}.{}", metric.key, stat.name), {value(b), value(c)});
    if (!b || !c) {
      mark_missing(row, fmt::format("{} has no {} samples", b ? "current" : "baseline", metric.key));
    } else if (stat.quantile) {
      const Interval ib = percentile_interval(*b, *stat.quantile);
      const Interval ic = percentile_interval(*c, *stat.quantile);
      const bool overlap = ib.low <= ic.high && ic.low <= ib.high;
      row.significance = hint(!overlap, *row.current - *row.baseline);
      row.detail = fmt::format("95% CI [{}, {}] vs [{}, {}]", format(ib.low), format(ib.high), format(ic.low),
                               format(ic.high));
    } else {
      const double se = std::sqrt(bucket_variance(*b) / static_cast<double>(b->count()) +
                                  bucket_variance(*c) / static_cast<double>(c->count()));
      const double delta = *c->mean() - *b->mean();
      const double z = se > 0 ? delta / se : (delta == 0 ? 0.0 : HUGE_VAL);
      row.significance = hint(std::fabs(z) >= k_z_95, delta);
      row.detail = fmt::format("z = {:.2f}", z);
    }
    rows.push_back(std::move(row));
  }
}

// --- rates ----------------------------------------------------------------------------------------

// `successes` of `trials`, e.g. failed requests of ended ones.
struct Proportion {
  double successes = 0;
  double trials = 0;
};

void add_proportion_row(const std::string& key, std::optional<Proportion> b, std::optional<Proportion> c,
                        const std::string& what, std::vector<MetricRow>& rows) {
  const auto rate = [](const std::optional<Proportion>& p) {
    return p && p->trials > 0 ? std::optional<double>(p->successes / p->trials) : std::nullopt;
  };
  MetricRow row = make_row(key, {rate(b), rate(c)});
  if (!row.baseline || !row.current) {
    mark_missing(row, fmt::format("{} has no {}", row.baseline ? "current" : "baseline", what));
  } else {
    const double pooled = (b->successes + c->successes) / (b->trials + c->trials);
    const double se = std::sqrt(pooled * (1 - pooled) * (1 / b->trials + 1 / c->trials));
    const double delta = *row.current - *row.baseline;
    const double z = se > 0 ? delta / se : 0.0;
    row.significance = hint(std::fabs(z) >= k_z_95, delta);
    row.detail = fmt::format("z = {:.2f}", z);
  }
  rows.push_back(std::move(row));
}

// Requests of a phase (or the total) that ended: ok, failed or aborted.
double ended_requests(const json& phase) {
  return number_at(phase, {"counts", "ok"}).value_or(0) + number_at(phase, {"counts", "failed"}).value_or(0) +
         number_at(phase, {"counts", "aborted"}).value_or(0);
}

std::optional<Proportion> ended_share(const json& phase, std::initializer_list<const char*> rate_path) {
  const auto rate = number_at(phase, rate_path);
  const double ended = ended_requests(phase);
  if (!rate || ended == 0) {
    return std::nullopt;
  }
  return Proportion{*rate * ended, ended};
}

std::optional<Proportion> checks_share(const json& phase) {
  if (!phase.contains("checks") || !phase["checks"].is_object()) {
    return std::nullopt;
  }
  Proportion p;
  for (const auto& [name, counts] : phase["checks"].items()) {
    const double passed = number_at(counts, {"passed"}).value_or(0);
    p.successes += passed;
    p.trials += passed + number_at(counts, {"failed"}).value_or(0);
  }
  return p.trials > 0 ? std::optional<Proportion>(p) : std::nullopt;
}

std::optional<Proportion> streams_share(const json& phase) {
  const double judged = number_at(phase, {"stream_delivery", "judged"}).value_or(0);
  if (judged == 0) {
    return std::nullopt;
  }
  return Proportion{number_at(phase, {"stream_delivery", "in_bursts"}).value_or(0) +
                        number_at(phase, {"stream_delivery", "at_end"}).value_or(0),
                    judged};
}

// --- plain values -------------------------------------------------------------------------------

std::optional<double> requests_per_second(const json& phase) {
  const auto completed = number_at(phase, {"counts", "completed"});
  const auto wall_ns = number_at(phase, {"wall_duration_ns"});
  if (!completed || !wall_ns || *wall_ns <= 0) {
    return std::nullopt;
  }
  return *completed / (*wall_ns * 1e-9);
}

// A row without a significance test; `why` when a side is missing (e.g. "no output tokens").
void add_plain_row(const std::string& key, Sides sides, const std::string& what, std::vector<MetricRow>& rows) {
  MetricRow row = make_row(key, sides);
  if (!sides.baseline || !sides.current) {
    mark_missing(row, fmt::format("{} has no {}", sides.baseline ? "current" : "baseline", what));
  }
  rows.push_back(std::move(row));
}

std::vector<MetricRow> phase_rows(const json& b, const json& c) {
  std::vector<MetricRow> rows;
  for (const auto& metric : k_histogram_metrics) {
    add_histogram_rows(metric, b, c, rows);
  }
  add_proportion_row("http_req_failed", ended_share(b, {"rates", "http_req_failed"}),
                     ended_share(c, {"rates", "http_req_failed"}), "ended requests", rows);
  add_proportion_row("http_req_cut", ended_share(b, {"rates", "http_req_cut"}), ended_share(c, {"rates", "http_req_cut"}),
                     "ended requests", rows);
  if (streams_share(b) || streams_share(c)) {
    add_proportion_row("stream_buffered", streams_share(b), streams_share(c), "judged streams", rows);
  }
  if (checks_share(b) || checks_share(c)) {
    add_proportion_row("checks", checks_share(b), checks_share(c), "evaluated checks", rows);
  }
  add_plain_row("requests_per_second", {requests_per_second(b), requests_per_second(c)}, "completed requests", rows);
  for (const char* key : {"output_tokens_per_second", "total_tokens_per_second"}) {
    add_plain_row(key, {number_at(b, {"summary", key}), number_at(c, {"summary", key})}, key, rows);
  }
  for (const char* count : k_count_names) {
    add_plain_row(fmt::format("counts.{}", count), {number_at(b, {"counts", count}), number_at(c, {"counts", count})},
                  "counts", rows);
  }
  return rows;
}

// The cache report's and the routing analysis's rows: run-wide, only in the total.
void add_run_wide_rows(const json& b, const json& c, std::vector<MetricRow>& rows) {
  for (const auto& metric : k_run_wide_metrics) {
    const bool has_b = b.contains(metric.section) && !b[metric.section].is_null();
    const bool has_c = c.contains(metric.section) && !c[metric.section].is_null();
    if (!has_b && !has_c) {
      continue;
    }
    const Sides sides{number_at(b, metric.path), number_at(c, metric.path)};
    if (!sides.baseline && !sides.current && has_b && has_c) {
      continue;  // neither report computed it (no served-by header: no affinity)
    }
    const std::string what = !has_b || !has_c ? fmt::format("{} report", metric.section_label)
                                              : fmt::format("{} in its {} report", metric.key, metric.section_label);
    if (metric.key == std::string_view("cache_hit_rate") && sides.baseline && sides.current) {
      // n = requests that ended: a request's prefix tokens hit or miss together.
      const auto requests = [](const json& result, double rate) -> std::optional<Proportion> {
        const double n = number_at(result, {"run", "total", "counts", "ok"}).value_or(0);
        return n > 0 ? std::optional<Proportion>(Proportion{rate * n, n}) : std::nullopt;
      };
      add_proportion_row(metric.key, requests(b, *sides.baseline), requests(c, *sides.current), "requests", rows);
      continue;
    }
    add_plain_row(metric.key, sides, what, rows);
  }
}

// The client's own CPU per ended request over the measured loop (run.client_cpu, engine/thread_cpu.hpp):
// what the load generator cost, not the system under test, so the row is neutral. nullopt for a result
// written before it was recorded or with no ended request.
std::optional<double> client_cpu_per_request(const json& result) {
  const auto user = number_at(result, {"run", "client_cpu", "user_ns"});
  const auto system = number_at(result, {"run", "client_cpu", "system_ns"});
  const double ended = ended_requests(result["run"]["total"]);  // check_run_result() saw run.total
  if (!user || !system || ended == 0) {
    return std::nullopt;
  }
  return (*user + *system) * 1e-9 / ended;
}

const json* find_phase(const json& result, const std::string& name) {
  const json& run = result["run"];
  if (!run.contains("phases") || !run["phases"].is_array()) {
    return nullptr;
  }
  for (const auto& phase : run["phases"]) {
    if (string_at(phase, "name", "") == name) {
      return &phase;
    }
  }
  return nullptr;
}

std::vector<std::string> phase_names(const json& result) {
  std::vector<std::string> names;
  if (result["run"].contains("phases") && result["run"]["phases"].is_array()) {
    for (const auto& phase : result["run"]["phases"]) {
      names.push_back(string_at(phase, "name", ""));
    }
  }
  return names;
}

std::string joined(const std::vector<std::string>& names) {
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

std::size_t Comparison::gates_failed() const {
  return static_cast<std::size_t>(std::count_if(gates.begin(), gates.end(), [](const GateResult& g) { return !g.passed; }));
}

util::Result<void> check_run_result(const json& result) {
  if (!result.is_object()) {
    return util::fail(fmt::format("is not an llmd-bench run result (a JSON {}, expected an object with schema \"{}\", "
                                  "written by `llmd-bench run --out json=FILE`)",
                                  result.type_name(), k_result_schema));
  }
  const std::string schema = result.contains("schema") && result["schema"].is_string() ? result["schema"].get<std::string>() : "";
  if (schema != k_result_schema) {
    return util::fail(fmt::format("is not an llmd-bench run result (schema {}; expected \"{}\", written by "
                                  "`llmd-bench run --out json=FILE`)",
                                  schema.empty() ? std::string("missing") : "\"" + schema + "\"", k_result_schema));
  }
  if (!result.contains("run") || !result["run"].is_object() || !result["run"].contains("total") ||
      !result["run"]["total"].is_object()) {
    return util::fail("is a run result without measurements (\"run\" is null: the run could not be carried out)");
  }
  const json& run = result["run"];
  if (run.contains("phases") && (!run["phases"].is_array() ||
                                 !std::all_of(run["phases"].begin(), run["phases"].end(), [](const json& p) { return p.is_object(); }))) {
    return util::fail("is not a valid run result (\"run\".\"phases\" must be an array of objects)");
  }
  return {};
}

util::Result<Comparison> compare_results(const json& baseline, const json& current, const CompareOptions& options) {
  Comparison out;
  out.baseline_name = options.baseline_name;
  out.current_name = options.current_name;
  out.baseline_verdict = string_at(baseline, "verdict", "?");
  out.current_verdict = string_at(current, "verdict", "?");
  const auto b_names = phase_names(baseline);
  const auto c_names = phase_names(current);
  for (const auto& name : b_names) {
    if (std::find(c_names.begin(), c_names.end(), name) == c_names.end()) {
      out.phases_only_in_baseline.push_back(name);
    }
  }
  for (const auto& name : c_names) {
    if (std::find(b_names.begin(), b_names.end(), name) == b_names.end()) {
      out.phases_only_in_current.push_back(name);
    }
  }
  CompareSection total{"total", phase_rows(baseline["run"]["total"], current["run"]["total"])};
  add_run_wide_rows(baseline, current, total.rows);
  if (const Sides cpu{client_cpu_per_request(baseline), client_cpu_per_request(current)}; cpu.baseline || cpu.current) {
    add_plain_row("client_cpu_per_request", cpu, "client CPU (run.client_cpu) or no ended request", total.rows);
  }
  out.sections.push_back(std::move(total));
  if (options.phase) {
    const json* b = find_phase(baseline, *options.phase);
    const json* c = find_phase(current, *options.phase);
    if (b == nullptr || c == nullptr) {
      const bool in_b = b != nullptr;
      return util::fail(fmt::format("--phase {}: no such phase in {} (its phases: {})", *options.phase,
                                    in_b ? options.current_name : options.baseline_name, joined(in_b ? c_names : b_names)));
    }
    out.sections.push_back({*options.phase, phase_rows(*b, *c)});
  } else if (b_names.size() > 1 || c_names.size() > 1) {
    for (const auto& name : b_names) {
      const json* c = find_phase(current, name);
      if (c != nullptr) {
        out.sections.push_back({name, phase_rows(*find_phase(baseline, name), *c)});
      }
    }
  }
  evaluate_gates(options.gates, options.phase ? &out.sections.back() : nullptr, out.sections.front(), out.gates);
  return out;
}

}  // namespace llmd::report
