#pragma once
// Text that is safe to write wherever the tool writes strings it did not make itself (server
// answers, metrics labels, Content-Type headers, user flags and scenario names).
//
// nlohmann::json::dump() throws type_error.316 on a string that is not UTF-8, and an uncaught
// throw ends the process with nothing written: every JSON the tool prints or writes goes through
// dump_json(), which replaces each invalid byte with U+FFFD (nlohmann's error_handler_t::replace).
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace llmd::util {

// value.dump(indent) that never throws on invalid UTF-8 (invalid bytes become U+FFFD).
std::string dump_json(const nlohmann::json& value, int indent = -1);

// `text` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD
// (overlong forms, surrogates and code points above U+10FFFF are not well-formed). Hand-written:
// nlohmann offers this only inside JSON escaping, and no Debian-packaged C++ library here does.
std::string valid_utf8(std::string_view text);

// Length (1 to 4) of the well-formed UTF-8 sequence starting at text[i], 0 when there is none: the
// check valid_utf8() applies, and the one nlohmann::json::parse applies inside strings (RFC 3629).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

// Whether `text`, read as JSON, nests arrays and objects more than `max_depth` deep (brackets inside
// strings do not count; the text need not be valid JSON). The check before nlohmann::json::parse of
// an untrusted body: its DOM costs ~75 bytes a level (16 MiB of "[[[...]]]" took 620 MB and 1.4 s to
// parse), and dump() and copies recurse once a level. One pass, no allocation.
bool json_nesting_exceeds(std::string_view text, std::size_t max_depth);

// How deep llmd-bench lets an untrusted JSON text nest before it parses it: far beyond what the
// answers it reads ever do (OpenAI chunks and completions, vLLM errors, Prometheus API answers: under
// 10 levels), and beyond what the SSE decoder's fast path skips (JsonCursor::k_max_depth, 64, inside
// a chunk's own 4 levels), so that both of the decoder's paths still agree.
inline constexpr std::size_t k_max_untrusted_json_depth = 128;

}  // namespace llmd::util
