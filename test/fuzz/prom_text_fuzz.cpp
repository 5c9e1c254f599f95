// Fuzz target: the Prometheus text parser (lib/prom/text_parser), the writer (text_writer) and
// what a scrape does with the parsed text (lib/scrape/snapshot extract_counters, cache_report).
//
// Input: an exposition. A line "#@after" splits it into the "before" and "after" scrape of one
// pod, so the counter deltas are explored too.
// Invariants:
//  - parse_text never crashes; an error has a line within the text;
//  - round trip: every parsed family written back with the writer (HELP, TYPE, samples without
//    timestamps) parses to the same families, types, HELP texts, sample names, labels and values;
//  - the cache report of two scrapes has hit rate and shares within [0, 1], and its JSON dumps.
#include <algorithm>
#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_support.hpp"
#include "prom/text_parser.hpp"
#include "prom/text_writer.hpp"
#include "scrape/cache_report.hpp"
#include "scrape/snapshot.hpp"
#include "util/json_text.hpp"

namespace {

using namespace llmd;

std::string rewrite(const prom::Exposition& exposition) {
  std::string out;
  for (const prom::Family& family : exposition.families) {
    prom::append_header(out, family.name, prom::to_string(family.type), family.help);
    for (const prom::Sample& sample : family.samples) {
      prom::LabelPairs labels;
      for (const prom::Label& label : sample.labels) {
        labels.emplace_back(label.name, label.value);
      }
      prom::append_sample(out, sample.name, labels, sample.value);
    }
  }
  return out;
}

bool same_value(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b));
}

// The HELP text as it survives a round trip: the format has no escape for a carriage return, and
// one before the line end is part of the line end, so trailing CRs cannot be written back.
std::string_view comparable_help(std::string_view help) {
  while (help.ends_with('\r')) {
    help.remove_suffix(1);
  }
  return help;
}

void check_round_trip(const prom::Exposition& parsed, std::string_view input) {
  const std::string written = rewrite(parsed);
  auto reparsed = prom::parse_text(written);
  LLMD_FUZZ_CHECK(reparsed.has_value(), "writer output does not parse: " + prom::format_error(reparsed.error(), "written") +
                                            "\n--- written:\n" + written + "\n--- from:\n" + std::string(input));
  LLMD_FUZZ_CHECK(reparsed->families.size() == parsed.families.size(), "family count changed:\n" + written);
  for (std::size_t f = 0; f < parsed.families.size(); ++f) {
    const prom::Family& a = parsed.families[f];
    const prom::Family& b = reparsed->families[f];
    LLMD_FUZZ_CHECK(a.name == b.name && a.type == b.type, "family " + a.name + " changed:\n" + written);
    LLMD_FUZZ_CHECK(comparable_help(a.help) == comparable_help(b.help), "HELP of " + a.name + " changed:\n" + written);
    LLMD_FUZZ_CHECK(a.samples.size() == b.samples.size(), "samples of " + a.name + " changed:\n" + written);
    for (std::size_t s = 0; s < a.samples.size(); ++s) {
      const prom::Sample& x = a.samples[s];
      const prom::Sample& y = b.samples[s];
      LLMD_FUZZ_CHECK(x.name == y.name && x.labels == y.labels && same_value(x.value, y.value),
                      "sample " + x.name + " (value " + prom::format_value(x.value) + ") changed to " + y.name +
                          " (value " + prom::format_value(y.value) + "):\n" + written);
    }
  }
}

scrape::PodSnapshotResult snapshot_of(std::string_view text) {
  scrape::PodScrape scrape{"pod-0", "fuzz", std::string(text), {}, {}};
  return scrape::snapshot_pod(scrape, "");
}

void check_in_unit_interval(const std::optional<double>& value, const char* what) {
  LLMD_FUZZ_CHECK(!value || std::isnan(*value) || (*value >= 0 && *value <= 1), std::string(what) + " outside [0, 1]");
}

void check_cache_report(std::string_view before, std::string_view after) {
  const scrape::CacheReport report = scrape::compute_cache_report({snapshot_of(before)}, {snapshot_of(after)});
  check_in_unit_interval(report.totals.hit_rate, "hit rate");
  check_in_unit_interval(report.totals.max_pod_share, "max pod share");
  check_in_unit_interval(report.totals.max_pod_query_share, "max pod query share");
  const std::string json = util::dump_json(scrape::to_json(report));
  LLMD_FUZZ_CHECK(!json.empty(), "empty JSON");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::as_text(data, size);
  auto parsed = prom::parse_text(input);
  if (parsed) {
    check_round_trip(*parsed, input);
  } else {
    const auto lines = static_cast<std::size_t>(std::count(input.begin(), input.end(), '\n')) + 1;
    LLMD_FUZZ_CHECK(parsed.error().line >= 1 && parsed.error().line <= lines && !parsed.error().message.empty(),
                    prom::format_error(parsed.error(), "input"));
  }
  constexpr std::string_view k_split = "\n#@after\n";
  const std::size_t split = input.find(k_split);
  if (split == std::string_view::npos) {
    check_cache_report(input, input);
  } else {
    check_cache_report(input.substr(0, split), input.substr(split + k_split.size()));
  }
  return 0;
}
