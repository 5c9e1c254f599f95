#pragma once
// A token count drawn per request: a fixed number or a distribution (scenarios/README.md, the
// `random` kind's `length` and the `prefix-groups` token counts). Loaded by load_length
// (load_requests.cpp); drawn by engine::draw_length.
#include <cstddef>

namespace llmd::scenario {

struct LengthDistribution {
  enum class Kind { constant, uniform, normal, lognormal };
  Kind kind = Kind::constant;
  double a = 128;  // constant: value; uniform: min; normal/lognormal: mean (of the tokens, not of the log)
  double b = 0;    // uniform: max; normal/lognormal: standard deviation
  std::size_t min_tokens = 1;
  std::size_t max_tokens = 32768;
};

// A fixed count (`value: N` or a bare integer).
inline LengthDistribution fixed_length(std::size_t tokens, std::size_t max_tokens) {
  return LengthDistribution{LengthDistribution::Kind::constant, static_cast<double>(tokens), 0, 1, max_tokens};
}

// The most tokens a draw can give: the value of a constant, else the upper clamp.
inline std::size_t longest_length(const LengthDistribution& length) {
  return length.kind == LengthDistribution::Kind::constant ? static_cast<std::size_t>(length.a) : length.max_tokens;
}

}  // namespace llmd::scenario
