#pragma once
// How long a closed-loop virtual user waits before its next request when the server asks it to,
// or cannot be reached. Without this, users retry at once: 2 users sent ~12,000 req/s of 429s to a
// throttling gateway and ~8,000 req/s of connect failures to a dead one, which measures only the
// client's own speed and hammers the server being tested. Pure: no clocks read, no I/O.
//
//   429 Too Many Requests / 503 Service Unavailable with Retry-After (delta-seconds or an
//       HTTP-date): wait that long, at most backoff.max_retry_after (when backoff.retry_after);
//   a connect failure: wait 10 ms, doubling with each consecutive one to at most 1 s (when
//       backoff.connect_errors); any response ends the streak.
// Open-loop arrivals keep their schedule (they do not wait on responses).
#include <chrono>
#include <cstdint>
#include <string_view>

#include "scenario/scenario.hpp"

namespace llmd::engine {

enum class BackoffKind { none, retry_after, connect_error };

struct BackoffDecision {
  BackoffKind kind = BackoffKind::none;
  std::chrono::nanoseconds wait{0};
};

inline constexpr std::chrono::milliseconds k_first_connect_backoff{10};
inline constexpr std::chrono::milliseconds k_max_connect_backoff{1000};

// Seconds a Retry-After header value asks for, relative to `now` for an HTTP-date (in the past:
// 0); nullopt when it is neither form.
std::optional<std::chrono::nanoseconds> parse_retry_after(std::string_view value,
                                                          std::chrono::system_clock::time_point now);

// The wait after one answer. `connect_streak` counts the user's consecutive connect failures (kept
// by the caller per user): incremented on a connect failure, reset by any other outcome.
BackoffDecision decide_backoff(const scenario::Backoff& policy, bool connect_failure, long http_status,
                               std::string_view retry_after, std::uint32_t& connect_streak,
                               std::chrono::system_clock::time_point now);

}  // namespace llmd::engine
