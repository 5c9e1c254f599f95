#include "engine/stream_delivery.hpp"

#include <algorithm>
#include <numeric>

namespace llmd::engine {

std::string_view to_string(Delivery delivery) {
  switch (delivery) {
    case Delivery::not_judged: return "not_judged";
    case Delivery::streamed: return "streamed";
    case Delivery::bursts: return "bursts";
    case Delivery::at_end: return "at_end";
  }
  return "?";
}

Delivery judge_delivery(std::span<const std::uint64_t> gaps_ns, std::uint64_t ttft_ns, std::uint64_t e2e_ns) {
  if (gaps_ns.size() + 1 < k_min_judged_content_events) {
    return Delivery::not_judged;
  }
  const auto near_zero = static_cast<std::size_t>(
      std::count_if(gaps_ns.begin(), gaps_ns.end(), [](std::uint64_t gap) { return gap < k_near_zero_gap_ns; }));
  if (near_zero * 2 <= gaps_ns.size()) {
    return Delivery::streamed;
  }
  const std::uint64_t generation_ns = std::accumulate(gaps_ns.begin(), gaps_ns.end(), std::uint64_t{0});
  if (generation_ns / gaps_ns.size() >= k_burst_mean_gap_ns) {
    return Delivery::bursts;
  }
  if (e2e_ns > 0 && static_cast<double>(ttft_ns) >= k_at_end_ttft_share * static_cast<double>(e2e_ns)) {
    return Delivery::at_end;
  }
  return Delivery::streamed;
}

}  // namespace llmd::engine
