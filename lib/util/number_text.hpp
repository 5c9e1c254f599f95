#pragma once
// Numbers in messages: whole values in full ("100000", "3600000", not fmt's shortest "1e+05"),
// others in the shortest form that reads back exactly ("1e-06", "0.5", "1e+300").
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmd::util {

std::string format_number(double value);

// A whole number written in decimal digits and nothing else ("42"; not "", "-1", "4x", " 4"); nullopt
// otherwise, or when it does not fit 64 bits.
std::optional<std::uint64_t> parse_whole_number(std::string_view text);

}  // namespace llmd::util
