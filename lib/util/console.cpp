#include "util/console.hpp"

#include <csignal>
#include <cstdio>

namespace llmd::util {

namespace {

bool g_stdout_gone = false;  // a write to stdout failed: print nothing more

}  // namespace

void ignore_sigpipe() { std::signal(SIGPIPE, SIG_IGN); }

bool print_stdout(std::string_view text) {
  if (g_stdout_gone) {
    return false;
  }
  if ((!text.empty() && std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) || std::fflush(stdout) != 0) {
    g_stdout_gone = true;
    std::clearerr(stdout);
  }
  return !g_stdout_gone;
}

}  // namespace llmd::util
