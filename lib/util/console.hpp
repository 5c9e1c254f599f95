#pragma once
// Standard output that may go away: `llmd-bench run … | head` closes the pipe early. With SIGPIPE
// ignored, a write to it fails with EPIPE instead of killing the process (exit 141, result files
// possibly unwritten); print_stdout() then stops printing and the command's own exit code stands.
#include <string_view>

namespace llmd::util {

// Makes a write to a closed pipe an EPIPE error instead of a fatal signal. Call once at start.
void ignore_sigpipe();

// Control characters other than newline and tab shown as "\x1b" etc.: text quoted from servers
// (a Content-Type, a metrics line, a label value) must not move the cursor, clear the screen or
// retitle the terminal when printed.
std::string escape_controls(std::string_view text);

// Writes `text`, redacted (util/redact.hpp) and with control characters escaped, to stdout and
// flushes it. Never throws. After a failed write (the reader went away, a full disk) it prints
// nothing more; returns whether stdout is still being written.
bool print_stdout(std::string_view text);

// The same without escaping: for the tool's own terminal control sequences (the progress line),
// whose variable parts the caller passed through escape_controls().
bool print_stdout_terminal(std::string_view text);

// Writes `text`, redacted and with control characters escaped, to stderr (unbuffered). Never throws.
void print_stderr(std::string_view text);

// print_stderr() without escaping, for the tool's own terminal control sequences (see
// print_stdout_terminal).
void print_stderr_terminal(std::string_view text);

}  // namespace llmd::util
