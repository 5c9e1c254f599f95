#include "util/duration.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace llmd::util {

namespace {

constexpr std::string_view k_units_help = "units: h, m, s, ms, us, ns";
constexpr double k_max_ns = 100.0 * 365.25 * 24 * 3600 * 1e9;  // ~100 years, well inside int64 ns
constexpr double k_max_duration_seconds = 9e9;                  // ~285 years: int64 ns hold 9.2e9 s

constexpr std::array<std::pair<std::string_view, double>, 7> k_units = {{
    {"ms", 1e6},
    {"us", 1e3},
    {"\xC2\xB5s", 1e3},  // "µs"
    {"ns", 1.0},
    {"h", 3600e9},
    {"m", 60e9},
    {"s", 1e9},
}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Length of the number at the start of `text` (digits with at most one '.'), 0 if none.
std::size_t number_length(std::string_view text) {
  std::size_t i = 0;
  bool digits = false;
  while (i < text.size() && is_digit(text[i])) {
    ++i;
    digits = true;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && is_digit(text[i])) {
      ++i;
      digits = true;
    }
  }
  return digits ? i : 0;
}

std::string invalid(std::string_view text) {
  return fmt::format("invalid duration \"{}\"; expected a number and a unit, e.g. \"30s\", \"2m30s\" or \"150ms\" ({})",
                     text, k_units_help);
}

// Formats `value / scale` exactly, trimming trailing zeros of the fraction: (1500, 1000) -> "1.5".
std::string exact_ratio(std::int64_t value, std::int64_t scale) {
  std::string out = std::to_string(value / scale);
  std::int64_t rest = value % scale;
  if (rest == 0) {
    return out;
  }
  std::string fraction;
  for (std::int64_t digit = scale / 10; digit >= 1; digit /= 10) {
    fraction += static_cast<char>('0' + rest / digit);
    rest %= digit;
  }
  while (!fraction.empty() && fraction.back() == '0') {
    fraction.pop_back();
  }
  return out + "." + fraction;
}

}  // namespace

Result<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  if (text.empty()) {
    return fail("empty duration; expected a number and a unit, e.g. \"30s\", \"2m30s\" or \"150ms\"");
  }
  if (text.front() == '-') {
    return fail(fmt::format("duration \"{}\" is negative", text));
  }
  double total_ns = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    const std::size_t length = number_length(rest);
    if (length == 0) {
      return fail(invalid(text));
    }
    double value = 0;
    const std::string number(rest.substr(0, length));
    std::from_chars(number.data(), number.data() + number.size(), value);
    rest.remove_prefix(length);
    if (rest.empty()) {
      if (length == text.size()) {
        return fail(fmt::format("duration \"{0}\" has no unit; add one, e.g. \"{0}s\" or \"{0}ms\" ({1})", text, k_units_help));
      }
      return fail(fmt::format("duration \"{}\" ends in a number without a unit (\"{}\"); add one ({})", text, number,
                              k_units_help));
    }
    const std::string_view unit = rest.substr(0, rest.find_first_of("0123456789."));
    const auto* row = std::find_if(k_units.begin(), k_units.end(), [&](const auto& entry) { return entry.first == unit; });
    if (row == k_units.end()) {
      return fail(fmt::format("duration \"{}\" has an unknown unit \"{}\"; {}", text, unit, k_units_help));
    }
    total_ns += value * row->second;
    rest.remove_prefix(unit.size());
  }
  if (!(total_ns <= k_max_ns)) {
    return fail(fmt::format("duration \"{}\" is too long (at most 100 years)", text));
  }
  return std::chrono::nanoseconds(std::llround(total_ns));
}

std::string format_duration(std::chrono::nanoseconds duration) {
  std::int64_t ns = duration.count();
  if (ns < 0) {
    return "-" + format_duration(-duration);
  }
  if (ns == 0) {
    return "0s";
  }
  if (ns < 1'000) {
    return fmt::format("{}ns", ns);
  }
  if (ns < 1'000'000) {
    return exact_ratio(ns, 1'000) + "us";
  }
  if (ns < 1'000'000'000) {
    return exact_ratio(ns, 1'000'000) + "ms";
  }
  constexpr std::int64_t k_hour = 3600'000'000'000;
  constexpr std::int64_t k_minute = 60'000'000'000;
  std::string out;
  if (ns >= k_hour) {
    out += fmt::format("{}h", ns / k_hour);
    ns %= k_hour;
  }
  if (ns >= k_minute) {
    out += fmt::format("{}m", ns / k_minute);
    ns %= k_minute;
  }
  if (ns > 0) {
    out += exact_ratio(ns, 1'000'000'000) + "s";
  }
  return out;
}

std::string format_seconds(double seconds) {
  if (!std::isfinite(seconds)) {
    return fmt::format("{}s", seconds);
  }
  if (seconds < 0) {
    return "-" + format_seconds(-seconds);
  }
  // 3 significant digits, before picking the unit. strtod, not stod: stod throws std::out_of_range
  // for a subnormal value such as 5e-324. Rounding the largest doubles up gives infinity: keep them.
  const double rounded = std::strtod(fmt::format("{:.3g}", seconds).c_str(), nullptr);
  seconds = std::isfinite(rounded) ? rounded : seconds;
  if (seconds >= k_max_duration_seconds) {
    return fmt::format("{:.3g}s", seconds);  // beyond the int64 nanoseconds of format_duration
  }
  if (seconds >= 60) {
    return format_duration(std::chrono::nanoseconds(std::llround(seconds * 1e3) * 1'000'000));
  }
  if (seconds == 0 || seconds >= 1) {
    return fmt::format("{:.3g}s", seconds);
  }
  if (seconds >= 1e-3) {
    return fmt::format("{:.3g}ms", seconds * 1e3);
  }
  if (seconds >= 1e-6) {
    return fmt::format("{:.3g}us", seconds * 1e6);
  }
  return fmt::format("{:.3g}ns", seconds * 1e9);
}

std::string format_seconds_fixed(double seconds) {
  if (seconds < 0) {
    return "-" + format_seconds_fixed(-seconds);
  }
  if (seconds >= 1.0) {
    return fmt::format("{:.2f}s", seconds);
  }
  if (seconds >= 1e-3) {
    return fmt::format("{:.2f}ms", seconds * 1e3);
  }
  return fmt::format("{:.0f}us", seconds * 1e6);
}

}  // namespace llmd::util
