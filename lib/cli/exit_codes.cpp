#include "cli/exit_codes.hpp"

#include <fmt/format.h>

#include "report/run_report.hpp"
#include "util/console.hpp"

namespace llmd::cli {

ExitCode exit_code(report::Verdict verdict) {
  switch (verdict) {
    case report::Verdict::pass: return k_exit_ok;
    case report::Verdict::fail: return k_exit_gate_failed;
    case report::Verdict::error: return k_exit_run_failed;
    case report::Verdict::interrupted: return k_exit_interrupted;
  }
  return k_exit_run_failed;
}

int finish_command(const CommandResult& result) {
  for (const auto& error : result.errors) {
    util::print_stderr(fmt::format("llmd-bench: error: {}\n", error));
  }
  return result.exit_code;
}

}  // namespace llmd::cli
