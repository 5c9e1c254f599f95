#include "report/exporter.hpp"

#include <fmt/format.h>

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
  return util::fail(fmt::format("unknown output format \"{}\"; expected json or junit", text));
}

std::string_view to_string(OutputFormat format) {
  switch (format) {
    case OutputFormat::json: return "json";
    case OutputFormat::junit: return "junit";
  }
  return "?";
}

std::string render(const run::RunReport& report, OutputFormat format, int exit_code) {
  switch (format) {
    case OutputFormat::json: return util::dump_json(to_json(report, exit_code), 2) + "\n";
    case OutputFormat::junit: return render_junit(report);
  }
  return {};
}

}  // namespace llmd::report
