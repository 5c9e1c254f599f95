#pragma once
// Text that is safe to write wherever the tool writes strings it did not make itself (server
// answers, metrics labels, Content-Type headers, user flags and scenario names).
//
// nlohmann::json::dump() throws type_error.316 on a string that is not UTF-8, and an uncaught
// throw ends the process with nothing written: every JSON the tool prints or writes goes through
// dump_json(), which replaces each invalid byte with U+FFFD (nlohmann's error_handler_t::replace).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

namespace llmd::util {

// value.dump(indent) that never throws on invalid UTF-8 (invalid bytes become U+FFFD).
std::string dump_json(const nlohmann::json& value, int indent = -1);

// The JSON text of `value` for an error message: dump_json(), cut to 60 characters ("...").
std::string json_excerpt(const nlohmann::json& value);

// A JSON integer >= 0 (signed or unsigned in nlohmann's DOM); nullopt for anything else.
std::optional<std::uint64_t> json_uint(const nlohmann::json& value);

// `text` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD
// (overlong forms, surrogates and code points above U+10FFFF are not well-formed). Hand-written:
// nlohmann offers this only inside JSON escaping, and no Debian-packaged C++ library here does.
std::string valid_utf8(std::string_view text);

// Length (1 to 4) of the well-formed UTF-8 sequence starting at text[i], 0 when there is none: the
// check valid_utf8() applies, and the one nlohmann::json::parse applies inside strings (RFC 3629).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

// `text` without the whitespace between JSON tokens (outside strings; one space kept where two
// number or literal tokens would otherwise run together, so "[1 2]" stays invalid). Pretty-printed
// results are mostly indentation (a histogram bucket [i, n] takes ~50 bytes at indent 2, 6 of them
// significant) and nlohmann's lexer costs per byte: parsing the compact text is several times faster.
std::string compact_json_whitespace(std::string_view text);

// How much JSON text from outside may become a DOM. A DOM costs far more than its text (16 MB of
// "[[[[..." took 1.28 GB and seconds of CPU; a 60 MB Prometheus answer, 3.86 GB): documents are
// measured first, in one pass without allocating, and refused when deeper or larger than this.
struct JsonLimits {
  std::size_t max_depth = 128;          // nested arrays/objects (vLLM, Prometheus, Kubernetes: < 20);
                                        // beyond what the SSE decoder's fast path skips (JsonCursor::k_max_depth,
                                        // 64, inside a chunk's own 4 levels), so both of its paths agree
  std::size_t max_values = 1'000'000;   // values of any kind (a 5,000-pod list: about 1 million)
};

// Parses `text` into a DOM, or says why not, as a predicate of the text: "is not JSON (…)", "is
// nested deeper than 128 levels", "has more than 1000000 values". Never throws.
tl::expected<nlohmann::json, std::string> parse_json_bounded(std::string_view text, JsonLimits limits = {});

}  // namespace llmd::util
