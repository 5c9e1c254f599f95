#pragma once
// Result file formats of `--out FORMAT=FILE` (STYLE.md habit 1: one renderer per format, each in
// its own file: json_report.hpp, junit_report.hpp). Tekton results are a folder, not one file:
// see tekton_results.hpp.
#include <string>
#include <string_view>

#include "run/run_report.hpp"
#include "util/result.hpp"

namespace llmd::report {

enum class OutputFormat {
  json,   // the versioned result (json_report.hpp), pretty-printed
  junit,  // JUnit XML, one testcase per gate (junit_report.hpp)
  html,   // one self-contained HTML page with charts (html_report.hpp), rendered from the json form
  csv,    // one row per request, streamed during the run (request_csv.hpp), not rendered after it
};

// Formats written while the run goes rather than rendered from the report after it (csv).
inline bool is_streamed(OutputFormat format) { return format == OutputFormat::csv; }

// "json" | "junit" | "html" | "csv"; the error quotes `text` and lists the valid formats.
util::Result<OutputFormat> parse_output_format(std::string_view text);
std::string_view to_string(OutputFormat format);

// The whole file content of `report` (already judged) in `format`; exit_code: the cli's exit code for
// report.verdict, written in the JSON result.
std::string render(const run::RunReport& report, OutputFormat format, int exit_code);

}  // namespace llmd::report
