#include "report/exporter.hpp"

#include <fmt/format.h>

#include "report/html_report.hpp"
#include "report/json_report.hpp"
#include "report/junit_report.hpp"
#include "util/json_text.hpp"

namespace llmd::report {

util::Result<OutputFormat> parse_output_format(std::string_view text) {
  if (text == "json") {
    return OutputFormat::json;
  }
  if (text == "junit") {
    return OutputFormat::junit;
  }
  if (text == "html") {
    return OutputFormat::html;
  }
  if (text == "csv") {
    return OutputFormat::csv;
  }
  return util::fail(fmt::format("unknown output format \"{}\"; expected json, junit, html or csv", text));
}

std::string_view to_string(OutputFormat format) {
  switch (format) {
    case OutputFormat::json: return "json";
    case OutputFormat::junit: return "junit";
    case OutputFormat::html: return "html";
    case OutputFormat::csv: return "csv";
  }
  return "?";
}

std::string render(const run::RunReport& report, OutputFormat format, int exit_code) {
  switch (format) {
    case OutputFormat::json: return util::dump_json(to_json(report, exit_code), 2) + "\n";
    case OutputFormat::junit: return render_junit(report);
    case OutputFormat::html: {
      auto page = render_html(to_json(report, exit_code));  // to_json writes "schema": cannot fail
      return page ? std::move(*page) : std::string();
    }
    case OutputFormat::csv: return {};  // streamed during the run (request_csv.hpp)
  }
  return {};
}

}  // namespace llmd::report
