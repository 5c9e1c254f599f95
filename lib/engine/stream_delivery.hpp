#pragma once
// Did a streamed answer reach the client token by token, or did something on the path (most often
// a buffering proxy) hold the events back and release them in bursts or all at the end? Then TTFT
// and inter-token latency measure the proxy, not the server. A pure function of one ok stream's
// timings, unit-testable without a network; the run-level finding is report/run_diagnostics.hpp.
//
// Only streams with at least k_min_judged_content_events content events are judged (>= 3 gaps).
// A gap is NEAR ZERO below k_near_zero_gap_ns (50 us): events that came out of one socket read
// (they share a timestamp: gap 0) or reads microseconds apart. No LLM server decodes one stream at
// 20,000 tokens/s, so near-zero gaps are events that waited somewhere and left together.
// A stream is BUFFERED when more than half of its gaps are near zero and
//   bursts: its mean gap ((last token - first token) / gaps) is at least k_burst_mean_gap_ns
//           (500 us): the generation time sits in a few long gaps between bursts (HAProxy 2.6
//           without `option http-no-delay`: a burst every ~200 ms); or
//   at end: the first token came at >= k_at_end_ttft_share (90%) of the end-to-end time: the whole
//           answer was held back and released at once (`http-response wait-for-body`, nginx
//           `proxy_buffering on` for a small answer).
// A server that really sends a token every 100 us (the simulator at --time-scale 0.01, as in the
// tests) has gaps around 100 us and a mean gap of 100 us: judged, streamed. A simulator scaled so
// far down that its tokens come < 50 us apart with a TTFT >= 90% of the total can look buffered:
// at that speed the client's own event-loop lag (~100 us) is larger than what it would measure.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace llmd::engine {

inline constexpr std::size_t k_min_judged_content_events = 4;
inline constexpr std::uint64_t k_near_zero_gap_ns = 50'000;
inline constexpr std::uint64_t k_burst_mean_gap_ns = 10 * k_near_zero_gap_ns;
inline constexpr double k_at_end_ttft_share = 0.9;

enum class Delivery {
  not_judged,  // fewer than k_min_judged_content_events content events
  streamed,    // token by token
  bursts,      // buffered: most events arrived together, between a few long gaps
  at_end,      // buffered: most events arrived together, at the end of the response
};

std::string_view to_string(Delivery delivery);  // "not_judged" | "streamed" | "bursts" | "at_end"

// `gaps_ns`: the gaps between consecutive content events of one stream, in arrival order (one fewer
// than its content events); `ttft_ns` and `e2e_ns`: first content event and end of the response,
// from the same reference instant.
Delivery judge_delivery(std::span<const std::uint64_t> gaps_ns, std::uint64_t ttft_ns, std::uint64_t e2e_ns);

}  // namespace llmd::engine
