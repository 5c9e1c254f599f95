#pragma once
// `llmd-bench compare BASELINE.json CURRENT.json`: two run results (`run --out json=FILE`) side by side,
// with a significance hint per metric and `--fail-on` gates on the change (report/compare.hpp has the
// statistics and the gate grammar). Prints the tables on stdout; --out json=FILE / junit=FILE write the
// comparison too (FILE - is standard output, which then holds only that document).
// Exit codes: 0 no gate failed, 1 a gate failed (regression), 2 usage (bad flag or --fail-on expression,
// a file that cannot be read or is no run result, --phase not in both runs, an --out file that cannot be
// written).
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/exit_codes.hpp"

namespace llmd::cli {

struct CompareCommandOptions {
  std::string baseline_path;          // BASELINE: a result of `run --out json=FILE`
  std::string current_path;           // CURRENT: the same, of the run under test
  std::vector<std::string> fail_on;   // --fail-on: gate expressions, e.g. "ttft.p95>+10%"
  std::vector<std::string> outputs;   // --out FORMAT=FILE, FORMAT json or junit
  std::optional<std::string> phase;   // --phase: compare and gate this phase instead of the run total
};

void add_compare_options(CLI::App& command, CompareCommandOptions& options);
CommandResult run_compare_command(const CompareCommandOptions& options);

}  // namespace llmd::cli
