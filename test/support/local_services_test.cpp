#include "support/local_services.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <set>

#include <gtest/gtest.h>

namespace llmd::test {
namespace {

// A TCP socket on 127.0.0.1:port (0: any), with SO_REUSEADDR as nginx and HAProxy set it, listening
// when asked; -1 when bind or listen failed.
int bound_socket(int port, bool reuse_address, bool listen) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (reuse_address) {
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || (listen && ::listen(fd, 8) != 0)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int port_of(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

TEST(HeldPorts, DistinctPortsNoOtherBindGetsWhileHeld) {
  HeldPorts held(3);
  ASSERT_EQ(held.ports().size(), 3u);
  EXPECT_EQ(std::set<int>(held.ports().begin(), held.ports().end()).size(), 3u);
  for (const int port : held.ports()) {
    EXPECT_EQ(bound_socket(port, false, false), -1) << "port " << port << " is not held";
  }
  // The kernel hands none of them out to a bind to port 0 (what the simulator and other tests do).
  std::vector<int> others;
  for (int i = 0; i < 500; ++i) {
    const int fd = bound_socket(0, true, true);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(std::count(held.ports().begin(), held.ports().end(), port_of(fd)), 0);
    others.push_back(fd);
  }
  for (const int fd : others) {
    ::close(fd);
  }
}

TEST(HeldPorts, AServerWithReuseAddressListensOnAHeldPortAndKeepsItAfterRelease) {
  HeldPorts held(1);
  ASSERT_EQ(held.ports().size(), 1u);
  const int port = held.ports()[0];
  EXPECT_FALSE(accepts_connections(port));  // held, not listening
  const int server = bound_socket(port, true, true);
  ASSERT_GE(server, 0) << "a SO_REUSEADDR server could not listen on the held port " << port;
  EXPECT_TRUE(accepts_connections(port));
  held.release();
  EXPECT_TRUE(accepts_connections(port));
  EXPECT_EQ(held.ports()[0], port);
  ::close(server);
}

}  // namespace
}  // namespace llmd::test
