#pragma once
// Standard output that may go away: `llmd-bench run … | head` closes the pipe early. With SIGPIPE
// ignored, a write to it fails with EPIPE instead of killing the process (exit 141, result files
// possibly unwritten); print_stdout() then stops printing and the command's own exit code stands.
#include <string_view>

namespace llmd::util {

// Makes a write to a closed pipe an EPIPE error instead of a fatal signal. Call once at start.
void ignore_sigpipe();

// Writes `text` to stdout and flushes it. Never throws. After a failed write (the reader went away,
// a full disk) it prints nothing more; returns whether stdout is still being written.
bool print_stdout(std::string_view text);

}  // namespace llmd::util
