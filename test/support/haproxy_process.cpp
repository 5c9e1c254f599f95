#include "support/haproxy_process.hpp"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/local_services.hpp"

namespace llmd::test {

HaproxyProcess::HaproxyProcess(const std::filesystem::path& dir, const std::string& server,
                               const std::string& defaults_lines, const std::string& backend_lines,
                               const std::string& frontend_lines) {
  const HeldPorts held(1);  // until HAProxy listens on it
  const std::vector<int>& ports = held.ports();
  if (ports.empty()) {
    ADD_FAILURE() << "no free port on 127.0.0.1";
    return;
  }
  m_port = ports[0];
  const auto config = dir / "haproxy.cfg";
  std::ofstream(config) << "global\n  maxconn 256\n"
                           "defaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n"
                        << defaults_lines << "frontend fe\n  bind 127.0.0.1:" << m_port << "\n"
                        << frontend_lines << "  default_backend be\n"
                        << "backend be\n"
                        << backend_lines << "  server upstream " << server << "\n";
  m_child = std::make_unique<ChildProcess>(std::vector<std::string>{k_haproxy, "-db", "-f", config.string()});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!accepts_connections(m_port)) {
    if (auto code = m_child->wait(std::chrono::milliseconds(0))) {
      ADD_FAILURE() << "haproxy exited with " << *code << ": " << m_child->stderr_text();
      return;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "haproxy did not accept connections on 127.0.0.1:" << m_port << ": " << m_child->stderr_text();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

HaproxyProcess::~HaproxyProcess() {
  if (m_child) {
    m_child->send_signal(SIGTERM);
    m_child->wait(std::chrono::seconds(5));  // ChildProcess SIGKILLs it if it is still running
  }
}

}  // namespace llmd::test
