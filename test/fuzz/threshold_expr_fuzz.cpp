// Fuzz target: threshold expressions (lib/scenario/thresholds parse_threshold) and their
// evaluation and messages.
//
// Input: "METRIC\nEXPRESSION", e.g. "ttft\np(95)<2s" (no newline: the whole input is the
// expression for ttft).
// Invariants: parsing never crashes; a parsed threshold keeps its source, names a known metric by
// its canonical name, has a finite limit (a fraction for rate and ratio metrics, >= 0 for time
// metrics), and its canonical form (aggregation, operator, limit) parses back to the same
// threshold; evaluating it against any observed value (none, NaN, infinities, extremes, the limit
// itself) gives a verdict and a reason without crashing, failing whenever there is no finite value.
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "fuzz/fuzz_support.hpp"
#include "scenario/thresholds.hpp"
#include "util/duration.hpp"

namespace {

using namespace llmd;
using scenario::MetricKind;

class FixedLookup final : public scenario::MetricLookup {
 public:
  explicit FixedLookup(std::optional<double> value) : m_value(value) {}
  std::optional<double> value(std::string_view, const scenario::Aggregation&) const override { return m_value; }

 private:
  std::optional<double> m_value;
};

// "p(95)<2s", "avg>=30", "<=0.9": what the threshold means, written back in the grammar.
std::string canonical(const scenario::Threshold& threshold, MetricKind kind) {
  std::string text = scenario::to_string(threshold.aggregation) + std::string(scenario::to_string(threshold.comparison));
  if (kind == MetricKind::time) {
    return text + util::format_duration(std::chrono::nanoseconds(std::llround(threshold.limit * 1e9)));
  }
  return text + fmt::format("{}", threshold.limit);
}

void check_parsed(const scenario::Threshold& threshold, std::string_view source) {
  const scenario::MetricInfo* metric = scenario::find_metric(threshold.metric);
  LLMD_FUZZ_CHECK(metric != nullptr && metric->name == threshold.metric, "metric " + threshold.metric);
  LLMD_FUZZ_CHECK(threshold.source == source, "source not kept");
  LLMD_FUZZ_CHECK(std::isfinite(threshold.limit), "limit not finite");
  if (metric->kind == MetricKind::ratio || metric->kind == MetricKind::rate) {
    LLMD_FUZZ_CHECK(threshold.limit >= 0 && threshold.limit <= 1, "fraction limit " + std::to_string(threshold.limit));
  }
  if (metric->kind == MetricKind::time) {
    LLMD_FUZZ_CHECK(threshold.limit >= 0, "negative time limit");
  }
  const std::string again = canonical(threshold, metric->kind);
  auto reparsed = scenario::parse_threshold(threshold.metric, again);
  LLMD_FUZZ_CHECK(reparsed.has_value(), "canonical form \"" + again + "\" does not parse: " + reparsed.error());
  LLMD_FUZZ_CHECK(reparsed->aggregation == threshold.aggregation && reparsed->comparison == threshold.comparison,
                  "canonical form \"" + again + "\" means something else");
  const double tolerance = metric->kind == MetricKind::time ? 1e-9 + 1e-15 * threshold.limit : 0.0;
  LLMD_FUZZ_CHECK(std::fabs(reparsed->limit - threshold.limit) <= tolerance,
                  fmt::format("canonical form \"{}\" has limit {} instead of {}", again, reparsed->limit, threshold.limit));
}

void check_evaluations(const scenario::Threshold& threshold, MetricKind kind) {
  constexpr double k_inf = std::numeric_limits<double>::infinity();
  const std::optional<double> observed[] = {std::nullopt, std::nan(""), k_inf, -k_inf, 0.0, -0.0, 1.0, -1.0,
                                            threshold.limit, std::nextafter(threshold.limit, k_inf), 1e300, -1e300,
                                            5e-324, std::numeric_limits<double>::max(), 1e-9, 3600.5};
  for (const auto& value : observed) {
    const scenario::ThresholdResult result = scenario::evaluate(threshold, FixedLookup(value));
    LLMD_FUZZ_CHECK(!result.reason.empty(), "no reason");
    if (!value || !std::isfinite(*value)) {
      LLMD_FUZZ_CHECK(!result.passed && !result.observed, "passed without a finite value");
    }
    if (value) {
      LLMD_FUZZ_CHECK(!scenario::format_metric_value(kind, *value).empty(), "empty value text");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view source = fuzz::as_text(data, size);
  std::string_view metric = "ttft";
  if (source.find('\n') != std::string_view::npos) {
    metric = fuzz::take_line(source);
  }
  auto threshold = scenario::parse_threshold(metric, source);
  if (!threshold) {
    LLMD_FUZZ_CHECK(!threshold.error().empty(), "empty error");
    return 0;
  }
  check_parsed(*threshold, source);
  check_evaluations(*threshold, scenario::find_metric(threshold->metric)->kind);
  return 0;
}
