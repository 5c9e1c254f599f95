#include "engine/backoff.hpp"

#include <algorithm>
#include <charconv>
#include <string>

#include <curl/curl.h>

namespace llmd::engine {

std::optional<std::chrono::nanoseconds> parse_retry_after(std::string_view value,
                                                          std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
    value.remove_prefix(1);
  }
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r' || value.back() == '\n')) {
    value.remove_suffix(1);
  }
  if (value.empty()) {
    return std::nullopt;
  }
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::uint64_t seconds = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (error != std::errc{} || end != value.data() + value.size() || seconds > 365ULL * 24 * 3600) {
      return std::chrono::hours(365 * 24);  // absurdly long: the caller caps it anyway
    }
    return std::chrono::seconds(seconds);
  }
  // An HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT"): libcurl's date parser.
  const std::string text(value);
  const time_t at = curl_getdate(text.c_str(), nullptr);
  if (at < 0) {
    return std::nullopt;
  }
  const auto when = std::chrono::system_clock::from_time_t(at);
  return when > now ? std::chrono::duration_cast<std::chrono::nanoseconds>(when - now) : std::chrono::nanoseconds(0);
}

BackoffDecision decide_backoff(const scenario::Backoff& policy, bool connect_failure, long http_status,
                               std::string_view retry_after, std::uint32_t& connect_streak,
                               std::chrono::system_clock::time_point now) {
  if (connect_failure) {
    connect_streak = std::min<std::uint32_t>(connect_streak + 1, 32);
    if (!policy.connect_errors) {
      return {};
    }
    const auto wait = std::min<std::chrono::nanoseconds>(k_first_connect_backoff * (1ULL << std::min<std::uint32_t>(connect_streak - 1, 20)),
                                                          k_max_connect_backoff);
    return {BackoffKind::connect_error, wait};
  }
  connect_streak = 0;
  if (!policy.retry_after || (http_status != 429 && http_status != 503) || retry_after.empty()) {
    return {};
  }
  const auto asked = parse_retry_after(retry_after, now);
  if (!asked || asked->count() == 0) {
    return {};
  }
  return {BackoffKind::retry_after, std::min<std::chrono::nanoseconds>(*asked, policy.max_retry_after)};
}

}  // namespace llmd::engine
