#include "support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace llmd::test {

ChildProcess::ChildProcess(std::vector<std::string> argv) : m_argv(argv), m_started(std::chrono::system_clock::now()) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> args;
  for (auto& arg : argv) {
    args.push_back(arg.data());
  }
  args.push_back(nullptr);
  const int rc = ::posix_spawn(&m_pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  m_stdout_fd = out_pipe[0];
  m_stderr_fd = err_pipe[0];
  if (rc != 0) {
    throw std::runtime_error(std::string("posix_spawn ") + argv[0] + ": " + std::strerror(rc));
  }
}

ChildProcess::~ChildProcess() {
  if (!m_exit_code && m_pid > 0) {
    ::kill(m_pid, SIGKILL);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
  }
  if (m_stdout_fd >= 0) {
    ::close(m_stdout_fd);
  }
  if (m_stderr_fd >= 0) {
    ::close(m_stderr_fd);
  }
}

void ChildProcess::drain(bool block_until_eof) {
  pollfd fds[2] = {{m_stdout_fd, POLLIN, 0}, {m_stderr_fd, POLLIN, 0}};
  std::string* sinks[2] = {&m_stdout, &m_stderr};
  for (;;) {
    const int ready = ::poll(fds, 2, block_until_eof ? 100 : 0);
    if (ready <= 0) {
      if (!block_until_eof || (fds[0].fd < 0 && fds[1].fd < 0)) {
        return;
      }
      continue;
    }
    bool any_open = false;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP)) != 0) {
        char buf[65536];
        const auto n = ::read(fds[i].fd, buf, sizeof buf);
        if (n > 0) {
          sinks[i]->append(buf, static_cast<std::size_t>(n));
        } else {
          fds[i].fd = -1;  // EOF
        }
      }
      any_open = any_open || fds[i].fd >= 0;
    }
    if (!any_open) {
      return;
    }
  }
}

std::optional<std::string> ChildProcess::read_stdout_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto newline = m_stdout.find('\n', m_stdout_consumed);
    if (newline != std::string::npos) {
      std::string line = m_stdout.substr(m_stdout_consumed, newline - m_stdout_consumed);
      m_stdout_consumed = newline + 1;
      return line;
    }
    pollfd fd{m_stdout_fd, POLLIN, 0};
    if (::poll(&fd, 1, 50) > 0) {
      char buf[65536];
      const auto n = ::read(m_stdout_fd, buf, sizeof buf);
      if (n <= 0) {
        return std::nullopt;
      }
      m_stdout.append(buf, static_cast<std::size_t>(n));
    }
  }
  return std::nullopt;
}

void ChildProcess::send_signal(int signal) {
  if (!m_exit_code) {
    ::kill(m_pid, signal);
  }
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!m_exit_code) {
    drain(false);
    int status = 0;
    const pid_t done = ::waitpid(m_pid, &status, WNOHANG);
    if (done == m_pid) {
      m_exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      drain(true);
      collect_results();
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  drain(true);
  return m_exit_code;
}

void ChildProcess::collect_results() const {
  const char* dir = std::getenv("LLMD_RESULT_COLLECT_DIR");
  const int code = m_exit_code.value_or(-1);
  if (dir == nullptr || *dir == '\0' || m_argv.size() < 2 || (m_argv[1] != "run" && m_argv[1] != "merge") ||
      (code != 0 && code != 1 && code != 3 && code != 130)) {
    return;
  }
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(dir, error);
  for (std::size_t i = 2; i + 1 < m_argv.size(); ++i) {
    if (m_argv[i] != "--out" || m_argv[i + 1].rfind("json=", 0) != 0) {
      continue;
    }
    const std::string path = m_argv[i + 1].substr(5);
    const fs::path copy = fs::path(dir) / ("result-" + std::to_string(::getpid()) + "-" + std::to_string(m_pid) + "-" +
                                           std::to_string(i) + ".json");
    if (path == "-") {
      std::ofstream(copy) << m_stdout;
      continue;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
        std::chrono::system_clock::from_time_t(st.st_mtime) < m_started - std::chrono::seconds(1)) {
      continue;  // not written by this run (a usage error kept an older file, a device, a FIFO)
    }
    fs::copy_file(path, copy, fs::copy_options::overwrite_existing, error);
  }
}

RunOutput run_to_completion(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  ChildProcess child(std::move(argv));
  RunOutput output;
  auto code = child.wait(timeout);
  output.exit_code = code.value_or(-1);
  output.out = child.stdout_text();
  output.err = child.stderr_text();
  return output;
}

}  // namespace llmd::test
