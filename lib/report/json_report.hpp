#pragma once
// The versioned machine-readable result (`--out json=FILE`): config echo with secrets redacted,
// per-phase statistics and histograms, per-pod counters before/after, thresholds, verdict.
#include <nlohmann/json.hpp>

#include "run/run_report.hpp"

namespace llmd::report {

inline constexpr const char* k_result_schema = "llmd-bench/result";
inline constexpr int k_result_schema_version = 1;

// exit_code: the process's exit code for report.verdict, which the cli maps (cli::exit_code) and
// passes in; written as the result's "exit_code".
nlohmann::json to_json(const run::RunReport& report, int exit_code);

// The scenario as run. Never contains a secret: header values of Authorization, Cookie,
// Proxy-Authorization and any header whose name contains "key", "token" or "secret" are replaced
// by "<redacted>"; api_key_env is the variable's NAME only.
nlohmann::json scenario_echo(const scenario::Scenario& scenario);

}  // namespace llmd::report
