#pragma once
// Loads a scenario file (YAML; JSON too, as YAML is a superset) into a Scenario. The schema is
// documented in scenarios/README.md. Every error names the file, line, column and field:
//
//   scenarios/x.yaml:12:5: load[1].executor: unknown executor "constant_vus"; expected one of
//   constant-vus, ramping-vus, constant-arrival-rate, poisson, gamma, iterations, trace
//
// Unknown keys, wrong types and out-of-range values are all errors; thresholds are parsed here,
// so a bad expression fails the load. Nothing is read from the environment: whether
// target.api_key_env is set is checked by the run command.
#include <filesystem>
#include <string_view>

#include "scenario/scenario.hpp"
#include "util/result.hpp"

namespace llmd::scenario {

// Reads and loads `path`; Scenario::path is `path` as given, Scenario::name defaults to its stem.
// At most limits::k_max_file_bytes are read, from a regular file, a device or a FIFO alike; a
// longer input is an error naming the file and the limit.
util::Result<Scenario> load_scenario(const std::filesystem::path& path);

// Loads scenario text as if read from `file_name` (used in messages; relative dataset and cache
// file paths are resolved against its directory).
util::Result<Scenario> load_scenario_text(std::string_view text, std::string_view file_name);

// engine.coalesce / --coalesce: "auto", "off" or a duration in (0, limits::k_max_coalesce]. The
// error (without a location: the caller adds the key or the flag) says which values fit.
util::Result<Coalesce> parse_coalesce(std::string_view text);

}  // namespace llmd::scenario
