// Fuzz target: the built-in HTTP/1.1 client's response framing (lib/engine/http1_response, Beast's
// parser behind it), fed as the client feeds it: pieces, with the bytes not consumed presented again.
//
// Input: raw response bytes as a server might send them; the first byte picks whether the peer then
// closes the connection (finish()). Where the bytes are cut comes from a hash of the input.
// Invariants:
//  - the parse does not depend on the split: one shot, hash-chosen pieces and (for inputs up to
//    2 KiB) one byte at a time give the same status, fields, body, end state, keep-alive and bytes
//    left over (a malformed header may be noticed later in pieces: see same_parse);
//  - a complete response is consistent: a final status in 100..999 (never an interim 1xx but 101),
//    and the bytes left over are a suffix of the input;
//  - a listener that rejects the body is told nothing more (state `rejected`, body within its limit).
#include <string>
#include <vector>

#include "engine/http1_response_test_support.hpp"
#include "fuzz/fuzz_support.hpp"

namespace {

using namespace llmd;
using engine::Http1Response;
using engine::test::Http1Recording;
using engine::test::parse_http1;

// Equal, but for when a malformed header is noticed: Beast parses the first bytes it is given at
// once, but after a `need more` it waits for the header's end ("\r\n\r\n") before parsing again. So a
// bad status line seen whole fails at once, and seen in pieces fails when the header ends (at the
// close, with another message), or is still waiting for it when no close comes.
bool same_parse(const Http1Recording& split, const Http1Recording& whole) {
  if (whole.end == Http1Response::State::error || split.end == Http1Response::State::error) {
    if (split.end == Http1Response::State::more || whole.end == Http1Response::State::more) {
      return true;
    }
    return split.end == whole.end && split.status == whole.status && split.fields == whole.fields &&
           split.body == whole.body;
  }
  return split == whole;
}

std::string describe(const Http1Recording& r) {
  return "status " + std::to_string(r.status) + ", " + std::to_string(r.fields.size()) + " fields, body " +
         std::to_string(r.body.size()) + " bytes, end " + std::to_string(static_cast<int>(r.end)) + ", error \"" +
         r.error + "\"";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const bool close_at_end = (data[0] & 1) != 0;
  const std::string bytes(fuzz::as_text(data + 1, size - 1));
  const Http1Recording whole = parse_http1(bytes, {}, close_at_end);
  const Http1Recording pieces = parse_http1(bytes, fuzz::cuts_from(fuzz::hash_of(bytes), bytes.size()), close_at_end);
  LLMD_FUZZ_CHECK(same_parse(pieces, whole), "pieces: " + describe(pieces) + " / one shot: " + describe(whole));
  if (bytes.size() <= 2048) {
    const Http1Recording bytewise = parse_http1(bytes, engine::test::every_byte(bytes.size()), close_at_end);
    LLMD_FUZZ_CHECK(same_parse(bytewise, whole), "byte by byte: " + describe(bytewise) + " / one shot: " + describe(whole));
  }
  if (whole.end == Http1Response::State::done) {
    LLMD_FUZZ_CHECK(whole.status >= 100 && whole.status <= 999 && (whole.status >= 200 || whole.status == 101),
                    describe(whole));
    LLMD_FUZZ_CHECK(whole.left_over <= bytes.size(), describe(whole));
  }
  const Http1Recording limited = parse_http1(bytes, {}, close_at_end, 16);
  LLMD_FUZZ_CHECK(limited.body.size() <= 16, describe(limited));
  LLMD_FUZZ_CHECK(limited.end == whole.end || limited.end == Http1Response::State::rejected, describe(limited));
  return 0;
}
