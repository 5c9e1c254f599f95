#pragma once
// `llmd-bench report RESULT.json --html FILE`: renders a saved run result (written by
// `run --out json=FILE`) as the self-contained HTML report (report/html_report.hpp), offline.
// FILE "-" is standard output. Exit codes: 0 written, 2 usage (bad flag, a file that cannot be
// read or is no llmd-bench result, a destination that cannot be written).
#include <string>

#include <CLI/CLI.hpp>

#include "cli/exit_codes.hpp"

namespace llmd::cli {

struct ReportOptions {
  std::string result_path;  // RESULT.json
  std::string html_path;    // --html FILE
};

void add_report_options(CLI::App& command, ReportOptions& options);
CommandResult run_report_command(const ReportOptions& options);

}  // namespace llmd::cli
