#pragma once
// Test support for tests that start real local servers (nginx, HAProxy) on 127.0.0.1: finding the
// executable, picking free ports, waiting until a port accepts connections.
#include <cstddef>
#include <string>
#include <vector>

namespace llmd::test {

// An absolute path to an executable `name` on PATH, else in `fallback_dirs` (nginx and haproxy live
// in /usr/sbin, which is not on every user's PATH); empty when there is none. ChildProcess uses
// posix_spawn (no PATH search), so it needs the absolute path.
std::string find_tool(const std::string& name, const std::vector<std::string>& fallback_dirs);

// Loopback ports for a server the test starts (nginx, HAProxy), held by this process until
// release(): each is a socket bound to 127.0.0.1 port 0 (the kernel picks a free one) with
// SO_REUSEADDR, never listening. While held, no other bind to port 0 and no outgoing connection
// gets the port, and a server that sets SO_REUSEADDR on its listening socket (nginx and HAProxy do)
// can still bind and listen on it. Release once the server accepts connections: probing a port and
// closing it before the server binds let another process take it in between.
class HeldPorts {
 public:
  // `count` distinct ports; fewer when binding failed (ports().size() tells).
  explicit HeldPorts(std::size_t count);
  HeldPorts(const HeldPorts&) = delete;
  HeldPorts& operator=(const HeldPorts&) = delete;
  ~HeldPorts() { release(); }

  const std::vector<int>& ports() const { return m_ports; }
  // Closes the holding sockets (the port numbers stay readable).
  void release();

 private:
  std::vector<int> m_fds;
  std::vector<int> m_ports;
};

// A TCP connect to 127.0.0.1:port succeeds.
bool accepts_connections(int port);

}  // namespace llmd::test
