// Fuzz target: what PrometheusSource makes of Prometheus' HTTP API answers (lib/scrape/
// prometheus_api answer_data, read_query_result, read_metadata_answer) and of the series they hold
// (prometheus_samples pod_freshness, synthesize), down to the counters of the synthesized text.
//
// Input: an answer body, read as the answer to a query (every result type) and to both metadata
// endpoints.
// Invariants: nothing crashes or throws; every point's time can be printed (format_utc) and
// differenced; a pod's synthesized exposition (when synthesize accepts its samples) parses with the
// text parser into the same samples, and extract_counters reads it.
#include <limits>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_support.hpp"
#include "prom/text_parser.hpp"
#include "scrape/prometheus_api.hpp"
#include "scrape/prometheus_samples.hpp"
#include "scrape/snapshot.hpp"

namespace {

using namespace llmd;
using namespace llmd::scrape::prometheus;

constexpr std::string_view k_pod_label = "pod";

// PrometheusSource prints every time (format_utc) and subtracts times from each other and from the
// marker (another answer's time): they must stay where that cannot overflow, within year +-5138.
constexpr std::int64_t k_max_abs_unix_ms = 100'000'000'000'000;

void check_times(const std::vector<Series>& series) {
  for (const Series& one : series) {
    for (const Point& point : one.points) {
      LLMD_FUZZ_CHECK(point.unix_ms >= -k_max_abs_unix_ms && point.unix_ms <= k_max_abs_unix_ms,
                      "time out of range: " + std::to_string(point.unix_ms));
      LLMD_FUZZ_CHECK(!format_utc(point.unix_ms).empty(), "format_utc");
    }
  }
}

// The HELP of each sample name, as HelpTexts picks it per target.
std::map<std::string, std::string> helps_for(const std::vector<Sample>& samples, const std::vector<MetadataEntry>& entries) {
  std::map<std::string, std::string> helps;
  for (const Sample& sample : samples) {
    if (auto help = help_for_series(entries, sample.labels)) {
      helps[sample.name] = *help;
    }
  }
  return helps;
}

void check_synthesized(const std::vector<Series>& series, const std::vector<MetadataEntry>& entries) {
  const auto pods = pod_freshness(series, pods_of(series, k_pod_label), k_pod_label,
                                  std::numeric_limits<std::int64_t>::min());
  for (const auto& [pod, state] : pods) {
    if (!state.fresh || state.samples.empty()) {
      continue;
    }
    std::vector<const Sample*> samples;
    for (const Sample& sample : state.samples) {
      samples.push_back(&sample);
    }
    auto text = synthesize(samples, helps_for(state.samples, entries));
    if (!text) {
      continue;  // a series from two targets: refused with a message
    }
    auto parsed = prom::parse_text(*text);
    LLMD_FUZZ_CHECK(parsed.has_value(), "synthesized text of pod " + pod + " does not parse: " +
                                            prom::format_error(parsed.error(), "synthesized") + "\n" + *text);
    std::size_t parsed_samples = 0;
    for (const prom::Family& family : parsed->families) {
      parsed_samples += family.samples.size();
    }
    LLMD_FUZZ_CHECK(parsed_samples == state.samples.size(), "pod " + pod + ": " + std::to_string(state.samples.size()) +
                                                               " samples synthesized, " + std::to_string(parsed_samples) +
                                                               " parsed:\n" + *text);
    (void)scrape::extract_counters(*parsed, "");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const scrape::PrometheusSourceOptions options;
  auto answer = answer_data("query", 200, "application/json", fuzz::as_text(data, size), options);
  if (!answer) {
    LLMD_FUZZ_CHECK(!answer.error().empty(), "empty error");
    return 0;
  }
  std::vector<MetadataEntry> entries;
  if (auto read = read_metadata_answer(*answer, true, "vllm:prefix_cache_hits_total")) {
    entries = std::move(*read);
  }
  (void)read_metadata_answer(*answer, false, "vllm:prefix_cache_hits_total");
  (void)distinct_helps(entries);
  for (const ResultType type : {ResultType::scalar, ResultType::vector, ResultType::matrix}) {
    auto series = read_query_result(*answer, type);
    if (!series) {
      continue;
    }
    check_times(*series);
    (void)labels_seen(*series);
    check_synthesized(*series, entries);
  }
  return 0;
}
