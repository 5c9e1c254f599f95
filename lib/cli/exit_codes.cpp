#include "cli/exit_codes.hpp"

#include <fmt/format.h>

#include "run/run_report.hpp"
#include "util/console.hpp"

namespace llmd::cli {

ExitCode exit_code(run::Verdict verdict) {
  switch (verdict) {
    case run::Verdict::pass: return k_exit_ok;
    case run::Verdict::fail: return k_exit_gate_failed;
    case run::Verdict::error: return k_exit_run_failed;
    case run::Verdict::interrupted: return k_exit_interrupted;
    case run::Verdict::not_judged: return k_exit_ok;  // a shard, or --no-gates: the run was carried out
  }
  return k_exit_run_failed;
}

int finish_command(const CommandResult& result) {
  for (const auto& error : result.internal_errors) {
    util::print_stderr(fmt::format("llmd-bench: internal error: {}\n", error));
  }
  for (const auto& error : result.errors) {
    util::print_stderr(fmt::format("llmd-bench: error: {}\n", error));
  }
  return result.exit_code;
}

void say_on_stderr(const std::string& line) { util::print_stderr(fmt::format("llmd-bench: {}\n", line)); }

}  // namespace llmd::cli
