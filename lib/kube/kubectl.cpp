#include "kube/kubectl.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

extern char** environ;

namespace llmd::kube {

namespace {

constexpr std::size_t k_max_output_bytes = 256u << 20u;  // a runaway kubectl is cut off here

bool is_plain_char(char c) {
  const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || std::strchr("_./:=,@%+-", c) != nullptr;
}

std::string trim(std::string text) {
  const auto end = text.find_last_not_of(" \t\r\n");
  text.erase(end == std::string::npos ? 0 : end + 1);
  return text;
}

// Owns the pipe ends and the child; kills and reaps a child that is still running.
struct Child {
  pid_t pid = -1;
  std::array<int, 2> fds = {-1, -1};  // stdout, stderr read ends
  bool reaped = false;
  int status = 0;

  ~Child() {
    for (int fd : fds) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
    if (pid > 0 && !reaped) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
    }
  }
};

// Spawns argv with stdin from /dev/null and stdout/stderr into pipes. Error: strerror text.
util::Result<void> spawn(const std::vector<std::string>& argv, Child& child) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return util::fail(std::strerror(errno));
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return util::fail(std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  const int rc = ::posix_spawnp(&child.pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  child.fds = {out_pipe[0], err_pipe[0]};
  if (rc != 0) {
    child.pid = -1;
    return util::fail(std::strerror(rc));
  }
  return {};
}

bool cancelled(const std::atomic<bool>* cancel) { return cancel != nullptr && cancel->load(); }

// Reads both pipes until EOF, the deadline or the cancel flag. False on timeout or cancel.
bool collect(Child& child, std::chrono::steady_clock::time_point deadline, KubectlOutput& output,
             const std::atomic<bool>* cancel) {
  std::array<std::string*, 2> sinks = {&output.out, &output.err};
  while (child.fds[0] >= 0 || child.fds[1] >= 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || cancelled(cancel)) {
      return false;
    }
    std::array<pollfd, 2> polls = {pollfd{child.fds[0], POLLIN, 0}, pollfd{child.fds[1], POLLIN, 0}};
    const int ready = ::poll(polls.data(), polls.size(), static_cast<int>(std::min<long>(left.count(), 100)));
    if (ready < 0 && errno != EINTR) {
      return false;
    }
    for (std::size_t i = 0; i < polls.size(); ++i) {
      if (polls[i].fd < 0 || (polls[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      char buffer[65536];
      const ssize_t got = ::read(polls[i].fd, buffer, sizeof buffer);
      if (got > 0 && sinks[i]->size() < k_max_output_bytes) {
        sinks[i]->append(buffer, static_cast<std::size_t>(got));
      } else if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
        ::close(child.fds[i]);
        child.fds[i] = -1;
      }
    }
  }
  return true;
}

// Waits for the child to exit (pipes are closed, so it is about to). False on timeout.
bool reap(Child& child, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const pid_t done = ::waitpid(child.pid, &child.status, WNOHANG);
    if (done == child.pid) {
      child.reaped = true;
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    ::usleep(2000);
  }
}

}  // namespace

std::string shell_quote(const std::string& word) {
  if (!word.empty() && std::all_of(word.begin(), word.end(), is_plain_char)) {
    return word;
  }
  std::string quoted = "'";
  for (char c : word) {
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return quoted + "'";
}

std::string display_command(const std::vector<std::string>& argv) {
  std::string line;
  for (const std::string& word : argv) {
    line += (line.empty() ? "" : " ") + shell_quote(word);
  }
  return line;
}

std::string describe_failure(const KubectlOutput& output) {
  const std::string err = trim(output.err);
  return fmt::format("`{}` exited with {}: {}", output.command_line, output.exit_code,
                     err.empty() ? std::string("(nothing on stderr)") : err);
}

Kubectl::Kubectl(KubeTarget target, std::chrono::milliseconds timeout)
    : m_target(std::move(target)), m_timeout(timeout) {}

std::vector<std::string> Kubectl::argv(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {m_target.kubectl};
  if (!m_target.kubeconfig.empty()) {
    argv.push_back("--kubeconfig=" + m_target.kubeconfig);
  }
  if (!m_target.context.empty()) {
    argv.push_back("--context=" + m_target.context);
  }
  if (!m_target.namespace_name.empty()) {
    argv.push_back("--namespace=" + m_target.namespace_name);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

util::Result<KubectlOutput> Kubectl::run_capture(const std::vector<std::string>& args) const {
  const std::vector<std::string> full = argv(args);
  KubectlOutput output;
  output.command_line = display_command(full);
  if (cancelled(m_cancel)) {
    return util::fail(fmt::format("`{}` not run: cancelled (Ctrl-C)", output.command_line));
  }
  Child child;
  if (auto spawned = spawn(full, child); !spawned) {
    return util::fail(fmt::format("cannot run `{}`: {}: is kubectl installed and on PATH? (Debian package kubectl)",
                                  output.command_line, spawned.error()));
  }
  const auto deadline = std::chrono::steady_clock::now() + m_timeout;
  if (!collect(child, deadline, output, m_cancel) || !reap(child, deadline)) {
    if (cancelled(m_cancel)) {
      return util::fail(fmt::format("`{}` was killed: cancelled (Ctrl-C)", output.command_line));
    }
    return util::fail(fmt::format("`{}` did not finish within {:g} s and was killed: is the API server reachable?",
                                  output.command_line, static_cast<double>(m_timeout.count()) / 1000.0));
  }
  output.exit_code = WIFEXITED(child.status) ? WEXITSTATUS(child.status) : 128 + WTERMSIG(child.status);
  return output;
}

util::Result<std::string> Kubectl::run(const std::vector<std::string>& args) const {
  auto output = run_capture(args);
  if (!output) {
    return util::fail(output.error());
  }
  if (output->exit_code != 0) {
    return util::fail(describe_failure(*output));
  }
  return std::move(output->out);
}

}  // namespace llmd::kube
