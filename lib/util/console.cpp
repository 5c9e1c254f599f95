#include "util/console.hpp"

#include <csignal>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "util/redact.hpp"

namespace llmd::util {

namespace {

bool g_stdout_gone = false;  // a write to stdout failed: print nothing more

bool write_stdout(const std::string& text) {
  if (g_stdout_gone) {
    return false;
  }
  if ((!text.empty() && std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) || std::fflush(stdout) != 0) {
    g_stdout_gone = true;
    std::clearerr(stdout);
  }
  return !g_stdout_gone;
}

}  // namespace

void ignore_sigpipe() { std::signal(SIGPIPE, SIG_IGN); }

std::string escape_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\n' && c != '\t') || byte == 0x7f) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out += c;
    }
  }
  return out;
}

bool print_stdout(std::string_view text) { return write_stdout(escape_controls(redact(text))); }

bool print_stdout_terminal(std::string_view text) { return write_stdout(redact(text)); }

namespace {

void write_stderr(const std::string& text) {
  if (!text.empty()) {
    (void)std::fwrite(text.data(), 1, text.size(), stderr);
  }
  std::clearerr(stderr);
}

}  // namespace

void print_stderr(std::string_view raw) { write_stderr(escape_controls(redact(raw))); }

void print_stderr_terminal(std::string_view raw) { write_stderr(redact(raw)); }

}  // namespace llmd::util
