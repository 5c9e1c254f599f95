#pragma once
// Reading a saved result (`run --out json=FILE`) back, for the commands that work on one offline:
// `report` (html_report.hpp) and `compare` (compare.hpp). Bounded: at most k_max_result_bytes, and
// parsed with util::parse_json_bounded (nesting and value limits), so a hostile file is an error,
// never a crash.
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "util/result.hpp"

namespace llmd::cli {

// A result file is a few MB at most (histograms are sparse); refuse anything far larger.
inline constexpr std::size_t k_max_result_bytes = 256u << 20;

// The file's JSON document; the error names the file and what is wrong with it.
util::Result<nlohmann::json> read_result_file(const std::string& path);

}  // namespace llmd::cli
