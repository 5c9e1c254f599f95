#include "engine/slice.hpp"

#include <fmt/format.h>

#include "util/number_text.hpp"

namespace llmd::engine {

util::Result<Slice> parse_slice(std::string_view text) {
  const auto slash = text.find('/');
  const auto bad = [&text](std::string_view why) {
    return util::fail(fmt::format("\"{}\": {} (write INDEX/COUNT with 0 <= INDEX < COUNT, e.g. 0/4)", text, why));
  };
  if (slash == std::string_view::npos) {
    return bad("no '/'");
  }
  const auto index = util::parse_whole_number(text.substr(0, slash));
  const auto count = util::parse_whole_number(text.substr(slash + 1));
  if (!index || !count) {
    return bad("INDEX and COUNT must be whole numbers");
  }
  if (*count == 0 || *count > k_max_slices) {
    return bad(fmt::format("COUNT must be 1 to {}", k_max_slices));
  }
  if (*index >= *count) {
    return bad("INDEX must be below COUNT (shards are numbered from 0)");
  }
  return Slice{*index, *count};
}

std::string to_string(const Slice& slice) { return fmt::format("{}/{}", slice.index, slice.count); }

}  // namespace llmd::engine
