#include "cli/report_command.hpp"

#include <fmt/format.h>

#include "cli/result_file.hpp"
#include "report/html_report.hpp"
#include "util/atomic_file.hpp"
#include "util/console.hpp"

namespace llmd::cli {

void add_report_options(CLI::App& command, ReportOptions& options) {
  command.add_option("RESULT", options.result_path, "A run result written by `llmd-bench run --out json=FILE`")->required();
  command.add_option("--html", options.html_path, "Write the self-contained HTML report to FILE (- is standard output)")
      ->required();
  command.footer(
      "Example:\n"
      "  llmd-bench run scenarios/cache-hit.yaml --out json=result.json\n"
      "  llmd-bench report result.json --html report.html   # open report.html in a browser; no network needed\n"
      "Exit codes: 0 written, 2 a file that cannot be read or is no llmd-bench result, or a destination that cannot be written.");
}

CommandResult run_report_command(const ReportOptions& options) {
  CommandResult result;
  auto parsed = read_result_file(options.result_path);
  if (!parsed) {
    return result.fail(k_exit_usage, parsed.error());
  }
  auto page = report::render_html(*parsed);
  if (!page) {
    return result.fail(k_exit_usage, fmt::format("{}: {}", options.result_path, page.error()));
  }
  if (options.html_path == "-") {
    util::print_stdout(*page);
    return result;
  }
  if (auto written = util::write_file_atomically(options.html_path, *page); !written) {
    return result.fail(k_exit_usage, fmt::format("--html {}: {}", options.html_path, written.error()));
  }
  return result;
}

}  // namespace llmd::cli
