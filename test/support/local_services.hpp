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

// Free loopback ports, distinct from each other: all sockets stay bound until every port is picked.
// Fewer than `count` when binding failed.
std::vector<int> free_ports(std::size_t count);

// A TCP connect to 127.0.0.1:port succeeds.
bool accepts_connections(int port);

}  // namespace llmd::test
