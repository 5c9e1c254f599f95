#include "cli/report_command.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report/html_report.hpp"
#include "util/atomic_file.hpp"
#include "util/console.hpp"

namespace llmd::cli {

namespace {

// A 10-minute run's result is a few MB; a file 100 times larger is not one.
constexpr std::size_t k_max_result_bytes = 512u << 20;

}  // namespace

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
  auto content = util::read_file(options.result_path, k_max_result_bytes);
  if (!content) {
    return result.fail(k_exit_usage, fmt::format("{}: {}", options.result_path, content.error()));
  }
  const auto parsed = nlohmann::json::parse(*content, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return result.fail(k_exit_usage, fmt::format("{}: not JSON; pass the file `llmd-bench run --out json=FILE` wrote",
                                                 options.result_path));
  }
  auto page = report::render_html(parsed);
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
