#include "cli/result_file.hpp"

#include <fmt/format.h>

#include "util/atomic_file.hpp"
#include "util/json_text.hpp"

namespace llmd::cli {

util::Result<nlohmann::json> read_result_file(const std::string& path) {
  auto text = util::read_file(path, k_max_result_bytes + 1);
  if (!text) {
    return util::fail(text.error());
  }
  if (text->size() > k_max_result_bytes) {
    return util::fail(fmt::format("{}: larger than {} MiB, not a run result", path, k_max_result_bytes >> 20));
  }
  // Parsed without its indentation (most of a pretty-printed result: see compact_json_whitespace);
  // a file that is not JSON is parsed again as written, so the error's offset points into the file.
  auto parsed = util::parse_json_bounded(util::compact_json_whitespace(*text));
  if (!parsed) {
    parsed = util::parse_json_bounded(*text);
  }
  if (!parsed) {
    return util::fail(fmt::format("{}: {}", path, parsed.error()));
  }
  return std::move(*parsed);
}

}  // namespace llmd::cli
