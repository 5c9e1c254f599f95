#pragma once
// The gateway's routing policies (pure: no I/O, time passed in). See RoutePolicy in sim_config.hpp.
//
// `prefix` follows llm-d's approximate prefix-cache scorer: the gateway keeps its own index of
// which pod was sent which prompt blocks (chained block hashes, the pods' block size), bounded
// by an LRU capacity; it does not ask the pods. A request goes to the pod(s) holding the longest
// run of its leading blocks; ties go to the least loaded (fewest in-flight), then at random. The
// chosen pod is recorded as holding all of the request's blocks. Like the real scorer, the index
// can be stale (a pod that restarted or evicted still "has" its blocks until they age out).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/prefix_cache.hpp"
#include "sim/sim_config.hpp"

namespace llmd::sim {

struct RouteInput {
  std::span<const BlockHash> prompt_blocks;  // chained hashes of the prompt's full blocks
  std::string_view session_key;              // x-session-id header, else the client address
};

struct RouteDecision {
  std::size_t pod = 0;
  std::size_t matched_blocks = 0;  // prefix policy: leading blocks the index said the pod holds
};

class Router {
 public:
  using Clock = std::chrono::steady_clock;

  Router(RoutePolicy policy, std::size_t pods, std::size_t prefix_index_capacity, double session_timeout_s, std::uint64_t seed);

  // Picks a pod. `in_flight[i]` is the number of requests pod i is serving now (size == pods).
  RouteDecision choose(const RouteInput& input, std::span<const std::size_t> in_flight, Clock::time_point now);

  RoutePolicy policy() const { return m_policy; }
  std::size_t prefix_index_size() const { return m_index.size(); }
  std::size_t session_count() const { return m_sessions.size(); }

 private:
  struct IndexEntry {
    std::vector<std::uint32_t> pods;
    std::list<BlockHash>::iterator lru_position;
  };
  struct Session {
    std::size_t pod;
    Clock::time_point last_seen;
  };

  std::vector<std::size_t> all_pods() const;
  std::size_t least_loaded(std::span<const std::size_t> candidates, std::span<const std::size_t> in_flight);
  RouteDecision choose_prefix(std::span<const BlockHash> blocks, std::span<const std::size_t> in_flight);
  std::size_t choose_session(std::string_view key, std::span<const std::size_t> in_flight, Clock::time_point now);
  void record_blocks(std::span<const BlockHash> blocks, std::size_t pod);

  RoutePolicy m_policy;
  std::size_t m_pods;
  std::size_t m_index_capacity;
  std::chrono::duration<double> m_session_timeout;
  std::mt19937_64 m_rng;
  std::size_t m_next_round_robin = 0;
  std::unordered_map<BlockHash, IndexEntry> m_index;
  std::list<BlockHash> m_lru;  // front = most recently used
  std::unordered_map<std::string, Session> m_sessions;
  std::size_t m_session_sweeps = 0;
};

}  // namespace llmd::sim
