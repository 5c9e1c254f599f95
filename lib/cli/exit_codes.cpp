#include "cli/exit_codes.hpp"

#include "report/run_report.hpp"

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

}  // namespace llmd::cli
