#include "cli/compare_command.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/result_file.hpp"
#include "cli/run_outputs.hpp"
#include "report/compare.hpp"
#include "report/html_report.hpp"
#include "util/atomic_file.hpp"
#include "util/console.hpp"
#include "util/json_text.hpp"

namespace llmd::cli {

namespace {

// The file parsed and checked; the error names the file and what is wrong with it.
util::Result<nlohmann::json> read_result(const std::string& path) {
  auto parsed = read_result_file(path);
  if (!parsed) {
    return parsed;
  }
  if (auto valid = report::check_run_result(*parsed); !valid) {
    return util::fail(fmt::format("{}: {}", path, valid.error()));
  }
  return parsed;
}

std::string render(const report::Comparison& comparison, report::OutputFormat format, const nlohmann::json& baseline,
                   const nlohmann::json& current) {
  switch (format) {
    case report::OutputFormat::junit: return report::render_comparison_junit(comparison);
    case report::OutputFormat::html: return report::render_comparison_html(baseline, current, comparison);
    default: return util::dump_json(report::comparison_to_json(comparison), 2) + "\n";
  }
}

}  // namespace

CommandResult run_compare_command(const CompareCommandOptions& options) {
  CommandResult result;
  report::CompareOptions compare{options.baseline_path, options.current_path, options.phase, {}};
  for (const auto& source : options.fail_on) {
    auto gate = report::parse_gate(source);
    if (!gate) {
      return result.fail(k_exit_usage, gate.error());
    }
    compare.gates.push_back(std::move(*gate));
  }
  auto outputs = parse_outputs(options.outputs, std::nullopt);
  if (!outputs) {
    return result.fail(k_exit_usage, outputs.error());
  }
  for (const auto& output : outputs->files) {
    if (report::is_streamed(output.format)) {
      return result.fail(k_exit_usage, fmt::format("--out {}={}: compare writes json, junit or html (csv is a run's per-request log)",
                                                   report::to_string(output.format), output.path));
    }
  }
  auto baseline = read_result(options.baseline_path);
  auto current = read_result(options.current_path);
  for (const auto* read : {&baseline, &current}) {
    if (!*read) {
      return result.fail(k_exit_usage, read->error());
    }
  }
  auto comparison = report::compare_results(*baseline, *current, compare);
  if (!comparison) {
    return result.fail(k_exit_usage, comparison.error());
  }
  print_summary(*outputs, report::render_comparison_text(*comparison));
  result.exit_code = comparison->regression() ? k_exit_gate_failed : k_exit_ok;
  for (const auto& output : outputs->files) {
    const std::string content = render(*comparison, output.format, *baseline, *current);
    if (output.to_stdout()) {
      util::print_stdout(content);
    } else if (auto written = util::write_file_atomically(output.path, content); !written) {
      result.fail(k_exit_usage, fmt::format("--out {}={}: {}", report::to_string(output.format), output.path, written.error()));
    }
  }
  return result;
}

void add_compare_options(CLI::App& command, CompareCommandOptions& options) {
  command.add_option("baseline", options.baseline_path, "Result of the reference run (llmd-bench run --out json=FILE)")
      ->type_name("BASELINE.json")
      ->required();
  command.add_option("current", options.current_path, "Result of the run under test")->type_name("CURRENT.json")->required();
  command.add_option("--fail-on", options.fail_on,
                     "Exit 1 when a change passes this (repeatable), e.g. 'ttft.p95>+10%', 'cache_hit_rate<-2pp', "
                     "'http_req_duration.p99>+50ms'")
      ->type_name("EXPR")
      ->allow_extra_args(false);
  command.add_option("--out", options.outputs, "Also write the comparison: json=FILE, junit=FILE (one testcase per gate) or html=FILE (both runs overlaid); FILE - is stdout")
      ->type_name("FORMAT=FILE")
      ->allow_extra_args(false);
  command.add_option("--phase", options.phase, "Compare and gate this phase (matched by name) instead of the run total")
      ->type_name("NAME");
}

}  // namespace llmd::cli
