#pragma once
// `llmd-bench validate SCENARIO [the run flags]`: every check `run` makes before it starts anything
// (check_run_inputs: the file, the flags applied to it, --out syntax, the token variables), then the
// resolved plan: target or embedded simulator, request shape, warm-up and phases with their
// executors, users or rates and durations after time_scale, cache source, thresholds and checks,
// outputs. Nothing is sent, started or written. Exit 0 with the plan, or 2 with the error `run`
// would print.
#include <string>

#include <CLI/CLI.hpp>

#include "cli/exit_codes.hpp"
#include "cli/run_command.hpp"

namespace llmd::cli {

// Adds the subcommand's options: the same as `run` (add_run_options), so every flag is checked alike.
void add_validate_options(CLI::App& command, RunOptions& options);
// Prints the plan on stdout; errors are returned, cli::run prints them.
CommandResult run_validate_command(const RunOptions& options);

// The plan of a checked run as text (one line per item, phases indented); no secret: header values
// and tokens are never shown, only the names of the variables that hold tokens.
std::string describe_plan(const RunInputs& inputs);

}  // namespace llmd::cli
