#pragma once
// `llmd-bench sweep SCENARIO`: the scenario's measured phase at a series of loads (run/sweep.hpp),
// the capacity found, a table on the terminal, JSON (`llmd-bench/sweep` v1) and JUnit. Takes run's
// target, cache, simulator and Kubernetes flags (not its load, shard or output flags).
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/exit_codes.hpp"
#include "cli/run_command.hpp"

namespace llmd::cli {

struct SweepOptions {
  RunOptions run;                               // the scenario and run's target/cache/simulator flags
  std::optional<std::string> rates;             // --rates 1,2,4
  std::optional<std::string> concurrency;       // --concurrency 8,16
  std::optional<std::string> search;            // --search rate
  std::optional<double> min;                    // --min
  std::optional<double> max;                    // --max
  std::optional<double> resolution;             // --resolution
  std::string step_duration = "30s";            // --step-duration
  double good_fraction = 0.95;                  // --good-fraction
  std::string max_client_lag = "25ms";          // --max-client-lag
  std::optional<double> require_rate;           // --require-rate
  std::string phase;                            // --phase
  std::vector<std::string> outputs;             // --out json=FILE | junit=FILE
};

void add_sweep_options(CLI::App& command, SweepOptions& options);
CommandResult run_sweep_command(const SweepOptions& options);

}  // namespace llmd::cli
