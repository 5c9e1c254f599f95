#pragma once
// Test support: runs the real llmd-bench binary as a child process (posix_spawn, argv vector),
// captures its stdout/stderr, and can signal it. No shell is involved.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace llmd::test {

// When the environment names a folder in LLMD_RESULT_COLLECT_DIR (ctest sets it for the suites
// that run `llmd-bench run`, test/CMakeLists.txt), every JSON result a finished `llmd-bench run` or `merge`
// wrote (--out json=FILE written during the child's life, or the standard output of --out json=-,
// on the exits that write results: 0, 1, 3, 130) is copied there, for the schema validation test
// (test/tools/validate_results.py) that runs after them.
class ChildProcess {
 public:
  // Starts `argv[0]` with `argv`. Throws std::runtime_error when spawning fails.
  explicit ChildProcess(std::vector<std::string> argv);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // SIGKILLs a child that is still running

  // Reads stdout up to the first newline (the sim's JSON line), or nullopt on EOF/timeout.
  std::optional<std::string> read_stdout_line(std::chrono::milliseconds timeout);
  void send_signal(int signal);
  // Waits for exit; returns the exit code (128 + signal when killed), or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // Everything read from stdout/stderr so far (after wait(): everything).
  const std::string& stdout_text() const { return m_stdout; }
  const std::string& stderr_text() const { return m_stderr; }
  pid_t pid() const { return m_pid; }

 private:
  void drain(bool block_until_eof);

  void collect_results() const;

  std::vector<std::string> m_argv;
  std::chrono::system_clock::time_point m_started;
  pid_t m_pid = -1;
  int m_stdout_fd = -1;
  int m_stderr_fd = -1;
  std::string m_stdout;
  std::string m_stderr;
  std::size_t m_stdout_consumed = 0;
  std::optional<int> m_exit_code;
};

// Runs to completion and returns {exit code, stdout, stderr}.
struct RunOutput {
  int exit_code = -1;
  std::string out;
  std::string err;
};
RunOutput run_to_completion(std::vector<std::string> argv, std::chrono::milliseconds timeout);

}  // namespace llmd::test
