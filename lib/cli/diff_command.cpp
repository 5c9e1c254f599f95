#include "cli/diff_command.hpp"

#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/exit_codes.hpp"
#include "run/gates.hpp"
#include "report/text_report.hpp"
#include "scenario/thresholds.hpp"
#include "scrape/file_source.hpp"
#include "util/json_text.hpp"
#include "util/console.hpp"

namespace llmd::cli {

namespace {

using nlohmann::json;

struct GateOutcome {
  scenario::Threshold threshold;
  scenario::ThresholdResult result;
};

GateOutcome judge_gate(const scenario::Threshold& threshold, const scrape::CacheReport& cache,
                       std::size_t allow_missing_pods) {
  scenario::Scenario allowance;
  allowance.cache.allow_missing_pods = allow_missing_pods;
  run::RunReport holder;  // RunMetrics answers cache_hit_rate from the cache report alone
  holder.scenario = &allowance;
  holder.cache = cache;
  const run::RunMetrics metrics(holder);
  return {threshold, scenario::evaluate(threshold, metrics)};
}

std::string gate_line(const GateOutcome& gate) {
  if (!gate.result.passed) {
    return fmt::format("gate: FAIL cache_hit_rate {}: {}\n", gate.threshold.source, gate.result.reason);
  }
  return fmt::format("gate: PASS cache_hit_rate {} (observed {})\n", gate.threshold.source,
                     scenario::format_metric_value(scenario::MetricKind::ratio, *gate.result.observed));
}

json gate_json(const GateOutcome& gate) {
  return {{"metric", gate.threshold.metric},
          {"source", gate.threshold.source},
          {"passed", gate.result.passed},
          {"observed", gate.result.observed ? json(*gate.result.observed) : json(nullptr)},
          {"reason", gate.result.reason}};
}

}  // namespace

util::Result<Snapshots> read_snapshots(const std::string& path, const std::string& model_filter) {
  auto source = scrape::FileSource::open({std::filesystem::path(path)});
  if (!source) {
    return util::fail(source.error());
  }
  return Snapshots{source->describe(), scrape::snapshot_pods(source->scrape_all(), model_filter)};
}

CommandResult run_diff_command(const DiffOptions& options) {
  CommandResult result;
  std::optional<scenario::Threshold> threshold;
  if (options.gate) {
    auto parsed = scenario::parse_threshold("cache_hit_rate", *options.gate);
    if (!parsed) {
      return result.fail(k_exit_usage, "--gate: " + parsed.error());
    }
    threshold = std::move(*parsed);
  }
  auto before = read_snapshots(options.before_path, options.model_filter);
  auto after = read_snapshots(options.after_path, options.model_filter);
  for (const auto* read : {&before, &after}) {
    if (!*read) {
      return result.fail(k_exit_usage, read->error());
    }
  }
  const auto cache = scrape::compute_cache_report(before->pods, after->pods);
  std::optional<GateOutcome> gate;
  if (threshold) {
    gate = judge_gate(*threshold, cache, options.allow_missing_pods);
  }
  if (options.json) {
    json out = scrape::to_json(cache);
    if (gate) {
      out["gate"] = gate_json(*gate);
    }
    util::print_stdout(util::dump_json(out, 2) + "\n");
  } else {
    util::print_stdout(fmt::format("prefix cache from {} to {}\n{}{}", before->description, after->description,
               report::render_cache_table(cache), gate ? gate_line(*gate) : ""));
  }
  if (cache.totals.pods_ok == 0) {
    return result.fail(k_exit_run_failed, fmt::format("no pod could be read in both snapshots ({}; {})",
                                                      options.before_path, options.after_path));
  }
  result.exit_code = gate && !gate->result.passed ? k_exit_gate_failed : k_exit_ok;
  return result;
}

void add_diff_options(CLI::App& command, DiffOptions& options) {
  command.add_option("before", options.before_path, "Snapshot before: a <pod>.prom/<pod>.txt dump or a folder of them")
      ->type_name("PATH")
      ->required();
  command.add_option("after", options.after_path, "Snapshot after: a <pod>.prom/<pod>.txt dump or a folder of them")
      ->type_name("PATH")
      ->required();
  command.add_option("--model", options.model_filter, "Only count series whose model_name is this (default: all)")
      ->type_name("NAME");
  command.add_flag("--json", options.json, "Print the cache report as JSON (plus \"gate\" with --gate)");
  command.add_option("--gate", options.gate, "Fail (exit 1) unless the overall hit rate passes this, e.g. \">=0.90\"")
      ->type_name("EXPR");
  command.add_option("--allow-missing-pods", options.allow_missing_pods,
                     "The gate still judges when up to N pods are missing from the totals (default 0: it fails)")
      ->type_name("N");
}

}  // namespace llmd::cli
