#pragma once
// Durations as people write them in scenario files and flags: "150ms", "2s", "2m30s", "1h",
// "500us", "1.5s" (Go's time.ParseDuration / k6 notation). Grammar:
//
//   duration ::= part { part }
//   part     ::= number unit
//   number   ::= digit { digit } [ "." { digit } ] | "." digit { digit }
//   unit     ::= "h" | "m" | "s" | "ms" | "us" | "µs" | "ns"
//
// A bare number ("120") is rejected: the error asks for a unit, because "120" could mean
// seconds or milliseconds and guessing wrong silently changes a run by 1000x.
#include <chrono>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace llmd::util {

// Parses `text` (no surrounding whitespace); the error quotes the input and lists the units.
// Negative durations and values beyond ~100 years are rejected.
Result<std::chrono::nanoseconds> parse_duration(std::string_view text);

// The shortest exact rendering in the same notation: 150ms, 2m30s, 1h, 0s, 1.5s, 250us.
// parse_duration(format_duration(d)) == d for every non-negative d.
std::string format_duration(std::chrono::nanoseconds duration);

// Seconds as a human duration for reports and threshold messages, with 3 significant digits at
// most: 1.25s, 850ms, 120us, 2m30s (>= 60 s uses format_duration). Negative values keep a '-'.
// Any double is accepted: beyond ~285 years "1e+12s", non-finite values "infs", "nans".
std::string format_seconds(double seconds);

// Seconds with two decimals for the summary's latency columns and the live progress line: "12.30ms",
// "1.25s", "850us", "-2009.45s". Not format_seconds (3 significant digits, "12.3ms", "2m30s": messages
// and thresholds): the summary keeps its fixed-width form.
std::string format_seconds_fixed(double seconds);

}  // namespace llmd::util
