#include "engine/slice.hpp"

#include <charconv>
#include <optional>

#include <fmt/format.h>

namespace llmd::engine {

bool operator==(const Slice& a, const Slice& b) { return a.index == b.index && a.count == b.count; }

namespace {

std::optional<std::size_t> whole_number(std::string_view text) {
  std::size_t value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

util::Result<Slice> parse_slice(std::string_view text) {
  const auto slash = text.find('/');
  const auto bad = [&text](std::string_view why) {
    return util::fail(fmt::format("\"{}\": {} (write INDEX/COUNT with 0 <= INDEX < COUNT, e.g. 0/4)", text, why));
  };
  if (slash == std::string_view::npos) {
    return bad("no '/'");
  }
  const auto index = whole_number(text.substr(0, slash));
  const auto count = whole_number(text.substr(slash + 1));
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
