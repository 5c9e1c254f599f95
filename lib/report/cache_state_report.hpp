#pragma once
// The cache-state stages' findings (run::CacheStateReport) as the summary's "cache state" section and
// the JSON result's "cache_state" object.
#include <string>

#include <nlohmann/json.hpp>

#include "run/run_report.hpp"

namespace llmd::report {

// "\ncache state (reset api, prime, verify)\n  reset ....: 4 pods, cold verified ..." ("" never: a
// section with at least its heading).
std::string render_cache_state(const run::CacheStateReport& state);

nlohmann::json cache_state_json(const run::CacheStateReport& state);

// The calibrate stage (run::CalibrationReport) as the summary's "token counts" section and the JSON
// result's "token_calibration" object.
std::string render_calibration(const run::CalibrationReport& calibration);
nlohmann::json calibration_json(const run::CalibrationReport& calibration);

}  // namespace llmd::report
