#pragma once
// Process exit codes, documented in README.md "Exit codes". One place maps errors to them
// (cli::run); k6-style names, but our own numbers.
#include <string>
#include <utility>
#include <vector>

namespace llmd::run {
enum class Verdict;  // run/run_report.hpp: the run's result holds a verdict, only cli maps it to an exit code
}

namespace llmd::cli {

enum ExitCode : int {
  k_exit_ok = 0,              // every gate passed (or the command did its job)
  k_exit_gate_failed = 1,     // a threshold, check or cache gate failed
  k_exit_usage = 2,           // bad flag, bad scenario file
  k_exit_run_failed = 3,      // the run could not be carried out (unreachable target, no pods, bind failure)
  k_exit_interrupted = 130,   // SIGINT/SIGTERM
};

// The exit code of a run with this verdict (also written as the JSON result's exit_code):
// pass 0, fail 1, error 3, interrupted 130.
ExitCode exit_code(run::Verdict verdict);

// What a command ends with: its exit code and its errors, which cli::run prints once each, in order, as
// "llmd-bench: error: ..." on stderr after the command returns (issue 12: commands do not print errors).
struct CommandResult {
  int exit_code = k_exit_ok;
  std::vector<std::string> errors;
  // Defects of llmd-bench (an exception that escaped), printed as "llmd-bench: internal error: ...".
  std::vector<std::string> internal_errors;

  // Adds an error and makes `code` the exit code.
  CommandResult& fail(ExitCode code, std::string error) {
    exit_code = code;
    errors.push_back(std::move(error));
    return *this;
  }
};

// Prints result.internal_errors and result.errors and returns result.exit_code (cli::run's one place that prints errors).
int finish_command(const CommandResult& result);

// A progress line from a lower layer (run::SayLine), printed on stderr as "llmd-bench: LINE".
void say_on_stderr(const std::string& line);

}  // namespace llmd::cli
