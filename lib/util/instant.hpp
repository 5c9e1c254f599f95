#pragma once
// Wall-clock instants as text: RFC 3339 out (results) and in (`run --start-at`).
#include <chrono>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace llmd::util {

// "2026-12-02T20:00:00.123Z": UTC, milliseconds.
std::string format_rfc3339(std::chrono::system_clock::time_point when);

// An instant written as RFC 3339 ("2026-12-02T20:00:00Z", "2026-12-02T21:00:00.5+01:00", a space or
// 't' for the 'T', 'z' for 'Z') or as unix seconds ("1796241600", "1796241600.25"). The error says
// which form was expected. Hand-written: libstdc++ 12 has no std::chrono::parse, and strptime()
// reads neither fractions nor offsets.
util::Result<std::chrono::system_clock::time_point> parse_instant(std::string_view text);

}  // namespace llmd::util
