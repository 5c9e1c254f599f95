#include "sim/router.hpp"

#include <algorithm>
#include <numeric>

namespace llmd::sim {

Router::Router(RoutePolicy policy, std::size_t pods, std::size_t prefix_index_capacity, double session_timeout_s,
               std::uint64_t seed)
    : m_policy(policy),
      m_pods(pods),
      m_index_capacity(std::max<std::size_t>(prefix_index_capacity, 1)),
      m_session_timeout(session_timeout_s),
      m_rng(seed) {}

std::size_t Router::least_loaded(std::span<const std::size_t> candidates, std::span<const std::size_t> in_flight) {
  std::size_t best_load = SIZE_MAX;
  std::vector<std::size_t> best;
  for (std::size_t pod : candidates) {
    if (in_flight[pod] < best_load) {
      best_load = in_flight[pod];
      best.clear();
    }
    if (in_flight[pod] == best_load) {
      best.push_back(pod);
    }
  }
  if (best.size() == 1) {
    return best.front();
  }
  std::uniform_int_distribution<std::size_t> pick(0, best.size() - 1);
  return best[pick(m_rng)];
}

RouteDecision Router::choose(const RouteInput& input, std::span<const std::size_t> in_flight, Clock::time_point now) {
  switch (m_policy) {
    case RoutePolicy::prefix:
      return choose_prefix(input.prompt_blocks, in_flight);
    case RoutePolicy::session:
      return {choose_session(input.session_key, in_flight, now), 0};
    case RoutePolicy::round_robin:
      return {m_next_round_robin++ % m_pods, 0};
    case RoutePolicy::random: {
      std::uniform_int_distribution<std::size_t> pick(0, m_pods - 1);
      return {pick(m_rng), 0};
    }
    case RoutePolicy::least_loaded:
      return {least_loaded(all_pods(), in_flight), 0};
  }
  return {0, 0};
}

std::vector<std::size_t> Router::all_pods() const {
  std::vector<std::size_t> pods(m_pods);
  std::iota(pods.begin(), pods.end(), std::size_t{0});
  return pods;
}

RouteDecision Router::choose_prefix(std::span<const BlockHash> blocks, std::span<const std::size_t> in_flight) {
  std::vector<std::size_t> candidates = all_pods();
  std::size_t matched = 0;
  for (BlockHash hash : blocks) {
    auto it = m_index.find(hash);
    if (it == m_index.end()) {
      break;
    }
    std::vector<std::size_t> holding;
    for (std::size_t pod : candidates) {
      if (std::find(it->second.pods.begin(), it->second.pods.end(), pod) != it->second.pods.end()) {
        holding.push_back(pod);
      }
    }
    if (holding.empty()) {
      break;
    }
    candidates = std::move(holding);
    ++matched;
  }
  const std::size_t pod = least_loaded(candidates, in_flight);
  record_blocks(blocks, pod);
  return {pod, matched};
}

void Router::record_blocks(std::span<const BlockHash> blocks, std::size_t pod) {
  for (BlockHash hash : blocks) {
    auto [it, inserted] = m_index.try_emplace(hash);
    if (inserted) {
      m_lru.push_front(hash);
    } else {
      m_lru.splice(m_lru.begin(), m_lru, it->second.lru_position);
    }
    it->second.lru_position = m_lru.begin();
    auto& pods = it->second.pods;
    if (std::find(pods.begin(), pods.end(), pod) == pods.end()) {
      pods.push_back(static_cast<std::uint32_t>(pod));
    }
  }
  while (m_index.size() > m_index_capacity) {
    m_index.erase(m_lru.back());
    m_lru.pop_back();
  }
}

std::size_t Router::choose_session(std::string_view key, std::span<const std::size_t> in_flight, Clock::time_point now) {
  // Sweep expired sessions now and then so an endless stream of one-off clients stays bounded.
  if (++m_session_sweeps % 1024 == 0) {
    std::erase_if(m_sessions, [&](const auto& entry) { return now - entry.second.last_seen > m_session_timeout; });
  }
  auto it = m_sessions.find(std::string(key));
  if (it != m_sessions.end() && now - it->second.last_seen <= m_session_timeout) {
    it->second.last_seen = now;
    return it->second.pod;
  }
  const std::size_t pod = least_loaded(all_pods(), in_flight);
  m_sessions[std::string(key)] = Session{pod, now};
  return pod;
}

}  // namespace llmd::sim
