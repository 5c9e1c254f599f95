#pragma once
// Writes the Prometheus text exposition format (0.0.4): HELP/TYPE lines and samples with
// escaped label values and Go/Python-compatible float formatting ("32.0", "1e+06", "NaN", "+Inf").
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmd::prom {

using LabelPairs = std::vector<std::pair<std::string_view, std::string_view>>;

// Float formatting as Python's prometheus_client does (repr of a float): 32.0, 0.5, 1e+06, NaN, +Inf, -Inf.
std::string format_value(double value);
// Label value escaping: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);
// HELP text escaping: backslash and newline.
std::string escape_help(std::string_view help);

// Appends "# HELP name help\n# TYPE name type\n".
void append_header(std::string& out, std::string_view name, std::string_view type, std::string_view help);
// Appends "name{a="x",b="y"} value\n" (no braces when there are no labels).
void append_sample(std::string& out, std::string_view name, const LabelPairs& labels, double value);

}  // namespace llmd::prom
