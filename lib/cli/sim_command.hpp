#pragma once
#include <CLI/CLI.hpp>

#include "cli/exit_codes.hpp"
#include "sim/sim_config.hpp"

namespace llmd::cli {

// Options of `llmd-bench sim`, bound to a SimConfig whose defaults the help text shows.
struct SimOptions {
  sim::SimConfig config;
  std::string route = std::string(sim::to_string(config.route));
  std::string metrics_flavor = std::string(sim::to_string(config.pod.metrics_flavor));
  bool no_prefix_caching = false;
  bool no_dev_mode = false;             // --no-dev-mode
  bool gateway_allow_no_model = false;  // --gateway-allow-no-model
  bool no_endpoint_header = false;      // --no-endpoint-header
};

// Adds the simulator's flags to `command` (used by `sim`; `run` reuses them for the embedded fleet).
void add_sim_options(CLI::App& command, SimOptions& options);
// Applies the string-valued options (route, flavor, caching) and validates; the error names the flag.
util::Result<sim::SimConfig> finish_sim_options(const SimOptions& options);

// Runs the simulator in the foreground until SIGINT/SIGTERM. Returns the exit code.
// Serves until SIGINT/SIGTERM; errors are returned, cli::run prints them.
CommandResult run_sim_command(const SimOptions& options);

}  // namespace llmd::cli
