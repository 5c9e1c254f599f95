#include "util/number_text.hpp"

#include <cmath>

#include <fmt/format.h>

namespace llmd::util {

std::string format_number(double value) {
  if (std::isfinite(value) && value == std::floor(value) && std::abs(value) < 1e15) {
    return fmt::format("{:.0f}", value);
  }
  return fmt::format("{}", value);
}

}  // namespace llmd::util
