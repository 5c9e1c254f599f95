// Fuzz target: the scenario loader (lib/scenario/loader load_scenario_text, the entry point
// load_scenario uses after reading the file) with its YAML reader, sections and thresholds.
//
// Input: scenario text (YAML or JSON), at most k_max_input_bytes (a larger input is skipped: the
// file reader caps what it reads, and the fuzzer should spend its time on structure, not size).
// Invariants: the loader never throws or crashes; an error names the file first
// ("fuzz/s.yaml:LINE:COLUMN: ..." or "fuzz/s.yaml: ..."); a loaded scenario has at least one
// phase, every phase (and the warm-up) passes the engine's own validate_phase, time_scale is
// finite and > 0, and every threshold parses again from its source to the same threshold.
#include <cmath>
#include <string>

#include "engine/executors.hpp"
#include "fuzz/fuzz_support.hpp"
#include "scenario/loader.hpp"

namespace {

using namespace llmd;

constexpr std::size_t k_max_input_bytes = 64 * 1024;
constexpr std::string_view k_file_name = "fuzz/s.yaml";

void check_loaded(const scenario::Scenario& loaded) {
  LLMD_FUZZ_CHECK(!loaded.phases.empty(), "a scenario without phases");
  LLMD_FUZZ_CHECK(std::isfinite(loaded.time_scale) && loaded.time_scale > 0, "time_scale");
  for (const scenario::Phase& phase : loaded.phases) {
    auto valid = engine::validate_phase(phase);
    LLMD_FUZZ_CHECK(valid.has_value(), "loaded phase fails validate_phase: " + valid.error());
  }
  if (loaded.warmup) {
    auto valid = engine::validate_phase(*loaded.warmup);
    LLMD_FUZZ_CHECK(valid.has_value(), "loaded warm-up fails validate_phase: " + valid.error());
  }
  for (const scenario::Threshold& threshold : loaded.thresholds) {
    auto again = scenario::parse_threshold(threshold.metric, threshold.source);
    LLMD_FUZZ_CHECK(again.has_value() && again->aggregation == threshold.aggregation &&
                        again->comparison == threshold.comparison && again->limit == threshold.limit,
                    "threshold \"" + threshold.source + "\" does not parse back");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > k_max_input_bytes) {
    return 0;
  }
  auto loaded = scenario::load_scenario_text(fuzz::as_text(data, size), k_file_name);
  if (!loaded) {
    LLMD_FUZZ_CHECK(loaded.error().starts_with(k_file_name), "error without the file name: " + loaded.error());
    return 0;
  }
  check_loaded(*loaded);
  return 0;
}
