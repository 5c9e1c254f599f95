#include "util/instant.hpp"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <optional>

#include <fmt/format.h>

namespace llmd::util {

std::string format_rfc3339(std::chrono::system_clock::time_point when) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     utc.tm_hour, utc.tm_min, utc.tm_sec, ms % 1000);
}

namespace {

// Reads exactly `width` digits at `pos`.
bool digits(std::string_view text, std::size_t& pos, std::size_t width, int& value) {
  if (pos + width > text.size()) {
    return false;
  }
  value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  pos += width;
  return true;
}

bool expect(std::string_view text, std::size_t& pos, std::string_view one_of) {
  if (pos < text.size() && one_of.find(text[pos]) != std::string_view::npos) {
    ++pos;
    return true;
  }
  return false;
}

// The digits at `pos` (at least one), the fraction after a '.', as nanoseconds (digits past the
// ninth are dropped); moves `pos` past them.
std::optional<std::int64_t> fraction_ns(std::string_view text, std::size_t& pos) {
  const std::size_t start = pos;
  std::int64_t nanos = 0;
  std::int64_t scale = 100'000'000;
  for (; pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) != 0; ++pos) {
    nanos += (text[pos] - '0') * scale;
    scale /= 10;
  }
  if (pos == start) {
    return std::nullopt;
  }
  return nanos;
}

// Days from 1970-01-01 to the civil date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

std::optional<std::chrono::system_clock::time_point> rfc3339(std::string_view text) {
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(text, pos, 4, year) || !expect(text, pos, "-") || !digits(text, pos, 2, month) || !expect(text, pos, "-") ||
      !digits(text, pos, 2, day) || !expect(text, pos, "Tt ") || !digits(text, pos, 2, hour) || !expect(text, pos, ":") ||
      !digits(text, pos, 2, minute) || !expect(text, pos, ":") || !digits(text, pos, 2, second)) {
    return std::nullopt;
  }
  static constexpr int k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > k_days[month - 1] + (month == 2 && leap(year) ? 1 : 0) || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::int64_t nanos = 0;
  if (expect(text, pos, ".")) {
    const auto fraction = fraction_ns(text, pos);
    if (!fraction) {
      return std::nullopt;
    }
    nanos = *fraction;
  }
  std::int64_t offset_s = 0;
  if (!expect(text, pos, "Zz")) {
    const bool minus = pos < text.size() && text[pos] == '-';
    int off_h = 0, off_m = 0;
    if (!expect(text, pos, "+-") || !digits(text, pos, 2, off_h) || !expect(text, pos, ":") || !digits(text, pos, 2, off_m) ||
        off_h > 23 || off_m > 59) {
      return std::nullopt;
    }
    offset_s = (minus ? -1 : 1) * (off_h * 3600 + off_m * 60);
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  const std::int64_t seconds =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 + hour * 3600 + minute * 60 +
      std::min(second, 59) - offset_s;
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos)));
}

std::optional<std::chrono::system_clock::time_point> unix_seconds(std::string_view text) {
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text.front())) == 0) {
    return std::nullopt;
  }
  std::int64_t whole = 0;
  std::size_t pos = 0;
  for (; pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) != 0; ++pos) {
    if (whole > 100'000'000'000) {  // past year 5000: not an instant anyone means
      return std::nullopt;
    }
    whole = whole * 10 + (text[pos] - '0');
  }
  std::int64_t nanos = 0;
  if (pos < text.size()) {
    const auto fraction = expect(text, pos, ".") ? fraction_ns(text, pos) : std::nullopt;
    if (!fraction || pos != text.size()) {
      return std::nullopt;
    }
    nanos = *fraction;
  }
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::seconds(whole) + std::chrono::nanoseconds(nanos)));
}

}  // namespace

util::Result<std::chrono::system_clock::time_point> parse_instant(std::string_view text) {
  if (auto when = unix_seconds(text)) {
    return *when;
  }
  if (auto when = rfc3339(text)) {
    return *when;
  }
  return util::fail(fmt::format("\"{}\" is not an instant: write RFC 3339 (2026-12-02T20:00:00Z, "
                                "2026-12-02T21:00:00.5+01:00) or unix seconds (1796241600)",
                                text));
}

}  // namespace llmd::util
