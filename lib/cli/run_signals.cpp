#include "cli/run_signals.hpp"

#include <signal.h>
#include <unistd.h>

namespace llmd::cli {

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_abort{false};
struct sigaction g_previous_int {};
struct sigaction g_previous_term {};

void on_signal(int) {
  static constexpr char k_stopping[] = "\nllmd-bench: stopping: in-flight requests may finish (Ctrl-C again aborts them)\n";
  static constexpr char k_aborting[] = "\nllmd-bench: aborting in-flight requests\n";
  if (!g_stop.exchange(true)) {
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, k_stopping, sizeof k_stopping - 1);
  } else if (!g_abort.exchange(true)) {
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, k_aborting, sizeof k_aborting - 1);
  }
}

}  // namespace

RunSignals::RunSignals() {
  static_assert(std::atomic<bool>::is_always_lock_free);
  g_stop = false;
  g_abort = false;
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, &g_previous_int);
  ::sigaction(SIGTERM, &action, &g_previous_term);
}

RunSignals::~RunSignals() {
  ::sigaction(SIGINT, &g_previous_int, nullptr);
  ::sigaction(SIGTERM, &g_previous_term, nullptr);
}

const std::atomic<bool>& RunSignals::stop_flag() const { return g_stop; }
const std::atomic<bool>& RunSignals::abort_flag() const { return g_abort; }

}  // namespace llmd::cli
