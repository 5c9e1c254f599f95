#pragma once
// Prometheus text exposition format (version 0.0.4) parser, tolerant of the OpenMetrics
// additions vLLM can emit (`# EOF`, `_created` families, `info`/`stateset` types).
//
// Hand-written on purpose: this is domain core (see DEVELOPERS.md); no Debian-packaged C++
// library parses the exposition format (prometheus-cpp only writes it).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace llmd::prom {

enum class MetricType { untyped, counter, gauge, histogram, summary, info, stateset, gaugehistogram, unknown };

std::string_view to_string(MetricType type);

struct Label {
  std::string name;
  std::string value;  // unescaped (\\, \", \n decoded)
  bool operator==(const Label&) const = default;
};

struct Sample {
  std::string name;             // exact sample name, e.g. "vllm:e2e_request_latency_seconds_bucket"
  std::vector<Label> labels;    // in exposition order; never rely on the order
  double value = 0;             // NaN, +Inf, -Inf allowed
  std::optional<std::int64_t> timestamp_ms;  // optional trailing timestamp (milliseconds since epoch)
  std::size_t line = 0;         // 1-based line in the parsed text

  // The value of label `name`, or nullptr when the sample has no such label.
  const std::string* label(std::string_view name) const;
};

struct Family {
  std::string name;             // metric family name from # TYPE / # HELP, or the sample name when undeclared
  MetricType type = MetricType::untyped;
  std::string help;             // unescaped HELP text (never key behaviour on its wording)
  std::vector<Sample> samples;  // samples belonging to the family (_bucket/_sum/_count/_total/... included)
};

struct Exposition {
  std::vector<Family> families;  // in order of first appearance

  // The family with exactly this name, or nullptr.
  const Family* family(std::string_view name) const;
  // Every sample whose name is exactly `sample_name` (never a prefix match), in exposition order.
  std::vector<const Sample*> samples(std::string_view sample_name) const;
};

struct ParseError {
  std::size_t line = 0;  // 1-based
  std::string message;   // what is wrong, quoting the offending text
};

// Parses a whole exposition. Lines may end in \n or \r\n; blank lines are skipped.
// A sample joins the family of the latest # HELP/# TYPE line when its name is that family's name,
// or the name plus a suffix of the family's type (counter: _total _created; histogram: _bucket
// _sum _count _created; summary: _sum _count _created; info: _info; gaugehistogram: _gsum
// _gcount _bucket); otherwise the family named exactly like the sample (untyped when new).
// An empty text is a valid, empty exposition; `# EOF` must be the last non-blank line.
tl::expected<Exposition, ParseError> parse_text(std::string_view text);

// "SOURCE:LINE: MESSAGE", e.g. "http://10.0.0.5:8200/metrics:12: expected '=' after label name \"model\"".
std::string format_error(const ParseError& error, std::string_view source_name);

// The text format's names: a metric name is [a-zA-Z_:][a-zA-Z0-9_:]*, a label name [a-zA-Z_][a-zA-Z0-9_]*.
bool is_metric_name(std::string_view name);
bool is_label_name(std::string_view name);

}  // namespace llmd::prom
