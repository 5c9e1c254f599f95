#include "cli/cli.hpp"

#include <algorithm>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "cli/compare_command.hpp"
#include "cli/diff_command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/merge_command.hpp"
#include "cli/report_command.hpp"
#include "cli/run_command.hpp"
#include "cli/scrape_command.hpp"
#include "cli/sim_command.hpp"
#include "cli/sweep_command.hpp"
#include "cli/validate_command.hpp"
#include "util/console.hpp"
#include "util/heap_pages.hpp"

namespace llmd::cli {

namespace {

constexpr const char* k_version = LLMD_VERSION;

}  // namespace

int run(int argc, char** argv) {
  // The process's own start (main's only call), before any thread: malloc's heap in huge pages where the
  // kernel leaves that to madvise (util/heap_pages.hpp; LLMD_BENCH_HUGE_PAGES=0 turns it off).
  util::advise_heap_huge_pages();
  std::vector<std::string> args(argv + 1, argv + argc);
  return run(std::move(args));
}

int run(std::vector<std::string> args) {
  util::ignore_sigpipe();  // `llmd-bench … | head`: stop printing, keep the exit code (util/console.hpp)
  CLI::App app{"llmd-bench: load and prefix-cache validation for vLLM / llm-d serving stacks", "llmd-bench"};
  app.set_version_flag("--version", k_version);
  app.require_subcommand(1);

  SimOptions sim_options;
  auto* sim = app.add_subcommand("sim", "Run the embedded vLLM-compatible fleet (pods + gateway) in the foreground");
  add_sim_options(*sim, sim_options);

  RunOptions run_options;
  auto* run_cmd = app.add_subcommand("run", "Drive load from a scenario file and judge its gates (see scenarios/README.md)");
  add_run_options(*run_cmd, run_options);

  RunOptions validate_options;
  auto* validate_cmd = app.add_subcommand(
      "validate", "Check a scenario and the run flags as `run` would, print the resolved plan; sends nothing");
  add_validate_options(*validate_cmd, validate_options);

  ScrapeOptions scrape_options;
  auto* scrape_cmd = app.add_subcommand("scrape", "Print every selected pod's prefix-cache counters now (--save-dir keeps the dumps)");
  add_scrape_options(*scrape_cmd, scrape_options);

  DiffOptions diff_options;
  auto* diff_cmd = app.add_subcommand("diff", "Prefix-cache report between two saved snapshots (files or folders of dumps)");
  add_diff_options(*diff_cmd, diff_options);

  ReportOptions report_options;
  auto* report_cmd = app.add_subcommand("report", "Render a saved run result (run --out json=FILE) as a self-contained HTML report");
  add_report_options(*report_cmd, report_options);

  CompareCommandOptions compare_options;
  auto* compare_cmd = app.add_subcommand(
      "compare", "Two run results side by side (run --out json=FILE), with --fail-on gates on the change");
  add_compare_options(*compare_cmd, compare_options);

  MergeOptions merge_options;
  auto* merge_cmd = app.add_subcommand(
      "merge", "Merge the results of a sharded run (run --shard I/N) exactly and judge the scenario's gates on the whole");
  add_merge_options(*merge_cmd, merge_options);

  SweepOptions sweep_options;
  auto* sweep_cmd = app.add_subcommand(
      "sweep", "Run the scenario's measured phase at a series of loads and find the highest that meets its gates");
  add_sweep_options(*sweep_cmd, sweep_options);

  std::reverse(args.begin(), args.end());  // CLI11 consumes a reversed vector
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11's own codes (100-127) are not ours: every usage error is exit 2 (README "Exit codes").
    util::print_stderr(fmt::format("llmd-bench: error: {}\nRun 'llmd-bench --help' for usage.\n", e.what()));
    return k_exit_usage;
  }
  // The one place an exception becomes an exit code: it is a defect of llmd-bench (every input
  // error is a message and exit 2 or 3), so say so rather than let the process abort (exit 134).
  try {
    if (run_cmd->parsed()) {
      return finish_command(run_run_command(run_options));
    }
    if (validate_cmd->parsed()) {
      return finish_command(run_validate_command(validate_options));
    }
    if (report_cmd->parsed()) {
      return finish_command(run_report_command(report_options));
    }
    if (scrape_cmd->parsed()) {
      return finish_command(run_scrape_command(scrape_options));
    }
    if (diff_cmd->parsed()) {
      return finish_command(run_diff_command(diff_options));
    }
    if (compare_cmd->parsed()) {
      return finish_command(run_compare_command(compare_options));
    }
    if (sweep_cmd->parsed()) {
      return finish_command(run_sweep_command(sweep_options));
    }
    if (merge_cmd->parsed()) {
      return finish_command(run_merge_command(merge_options));
    }
    if (sim->parsed()) {
      return finish_command(run_sim_command(sim_options));
    }
  } catch (const std::exception& e) {
    util::print_stderr(fmt::format("llmd-bench: internal error: {} (please report it)\n", e.what()));
    return k_exit_run_failed;
  } catch (...) {
    util::print_stderr(fmt::format("llmd-bench: internal error: unknown exception (please report it)\n"));
    return k_exit_run_failed;
  }
  return k_exit_usage;
}

}  // namespace llmd::cli
