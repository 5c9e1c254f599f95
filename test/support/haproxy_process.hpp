#pragma once
// Test support: Debian's real HAProxy (2.6; scripts/setup.sh installs it) as a child process on
// 127.0.0.1:<free port>, forwarding to one server, with a config the test shapes (lines added to
// its defaults, frontend and backend sections). Loopback only; stopped when destroyed.
#include <filesystem>
#include <memory>
#include <string>

#include "support/child_process.hpp"

namespace llmd::test {

inline constexpr const char* k_haproxy = "/usr/sbin/haproxy";

class HaproxyProcess {
 public:
  // Writes DIR/haproxy.cfg (mode http; frontend on the port, default_backend to `server`,
  // "127.0.0.1:PORT"), starts `haproxy -db` and waits until the port accepts connections; a test
  // failure (ADD_FAILURE) with HAProxy's stderr when it does not within 10 s.
  HaproxyProcess(const std::filesystem::path& dir, const std::string& server, const std::string& defaults_lines,
                 const std::string& backend_lines, const std::string& frontend_lines = "");
  HaproxyProcess(const HaproxyProcess&) = delete;
  HaproxyProcess& operator=(const HaproxyProcess&) = delete;
  ~HaproxyProcess();  // SIGTERM; ChildProcess SIGKILLs it after 5 s

  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

 private:
  int m_port = 0;
  std::unique_ptr<ChildProcess> m_child;
};

}  // namespace llmd::test
