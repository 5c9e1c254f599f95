#pragma once
// Process exit codes, documented in README.md "Exit codes". One place maps errors to them
// (cli::run); k6-style names, but our own numbers.
namespace llmd::report {
enum class Verdict;  // report/run_report.hpp: the report holds a verdict, only cli maps it to an exit code
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
ExitCode exit_code(report::Verdict verdict);

}  // namespace llmd::cli
