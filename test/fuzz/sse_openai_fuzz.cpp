// Fuzz target: the SSE parser (lib/sse/sse_parser) fed in arbitrary splits, and the OpenAI chunk
// decoder (lib/sse/openai_stream*) on every event it dispatches.
//
// Input: raw response bytes, as libcurl would hand them over. Where they are split comes from a
// hash of the input, so every input is also checked in pieces.
// Invariants:
//  - the parse does not depend on the split: one shot, hash-chosen pieces and (for inputs up to
//    1 KiB) one byte at a time give the same events, comments, pending state and failure, with the
//    default event limit and with a small one;
//  - for every event, the fast path (JsonCursor) and the nlohmann-only path classify its data
//    identically (kind, text and reasoning bytes, choices, finish_reason, usage, error, problem);
//  - one decoder over the whole stream (resuming after a repeated chunk start, ChunkPrefix) reads
//    every event as a fresh decoder does;
//  - the per-request tally adds up (events, content events, output tokens >= 0).
#include <string>
#include <vector>

#include "fuzz/fuzz_support.hpp"
#include "sse/openai_error.hpp"
#include "sse/openai_stream.hpp"
#include "sse/sse_test_support.hpp"

namespace {

using namespace llmd;
using sse::test::Recording;

// Equal but for the failure message, whose byte count depends on where the failing feed ended.
bool same_parse(const Recording& a, const Recording& b) {
  return a.events == b.events && a.comments == b.comments && a.error.empty() == b.error.empty() &&
         (!a.error.empty() || (a.event_pending == b.event_pending && a.line_pending == b.line_pending &&
                               a.pending_data == b.pending_data && a.pending_line == b.pending_line));
}

Recording check_splits(std::string_view stream, sse::SseParserOptions options) {
  const Recording one_shot = sse::test::parse_one_shot(stream, options);
  const auto cuts = fuzz::cuts_from(fuzz::hash_of(stream), stream.size());
  LLMD_FUZZ_CHECK(same_parse(one_shot, sse::test::parse_in_pieces(stream, cuts, options)),
                  "pieces differ from the one-shot parse");
  if (stream.size() <= 1024) {
    LLMD_FUZZ_CHECK(same_parse(one_shot, sse::test::parse_byte_by_byte(stream, options)),
                    "byte-by-byte differs from the one-shot parse");
  }
  return one_shot;
}

void check_decoders_agree(std::string_view data) {
  sse::OpenAiStreamDecoder fast_decoder;
  const sse::OpenAiChunk fast = fast_decoder.decode(data);
  const std::string fast_reason(fast.finish_reason);
  sse::OpenAiStreamDecoder slow_decoder;
  const sse::OpenAiChunk slow = slow_decoder.decode_slow(data);
  const std::string where = "\n  data: \"" + std::string(data.substr(0, 400)) + "\"";
  LLMD_FUZZ_CHECK(fast.kind == slow.kind, "kind " + std::string(sse::to_string(fast.kind)) + " vs " +
                                              std::string(sse::to_string(slow.kind)) + " (" + slow.problem + ")" + where);
  LLMD_FUZZ_CHECK(fast.text_bytes == slow.text_bytes, "text_bytes" + where);
  LLMD_FUZZ_CHECK(fast.reasoning_bytes == slow.reasoning_bytes, "reasoning_bytes" + where);
  LLMD_FUZZ_CHECK(fast.choice_count == slow.choice_count, "choice_count" + where);
  LLMD_FUZZ_CHECK(fast_reason == slow.finish_reason, "finish_reason" + where);
  LLMD_FUZZ_CHECK(fast.usage == slow.usage, "usage" + where);
  LLMD_FUZZ_CHECK(fast.error == slow.error, "error" + where);
  LLMD_FUZZ_CHECK(fast.problem == slow.problem, "problem" + where);
  LLMD_FUZZ_CHECK((fast.kind == sse::ChunkKind::malformed) == !fast.problem.empty(), "problem iff malformed" + where);
  (void)sse::classify_error_body(data);
}

// One decoder over the stream: each event after the first may resume after the previous chunk's start
// (ChunkPrefix); it must read every event exactly as a fresh decoder reads it alone.
void check_tally(const Recording& recording) {
  sse::OpenAiStreamDecoder decoder;
  for (const auto& event : recording.events) {
    const sse::OpenAiChunk resumed = decoder.decode(event.data);
    sse::OpenAiStreamDecoder fresh_decoder;
    const sse::OpenAiChunk fresh = fresh_decoder.decode(event.data);
    const std::string where = "\n  data: \"" + std::string(event.data.substr(0, 400)) + "\"";
    LLMD_FUZZ_CHECK(resumed.kind == fresh.kind && resumed.text_bytes == fresh.text_bytes &&
                        resumed.reasoning_bytes == fresh.reasoning_bytes && resumed.choice_count == fresh.choice_count &&
                        resumed.finish_reason == fresh.finish_reason && resumed.usage == fresh.usage &&
                        resumed.error == fresh.error && resumed.problem == fresh.problem,
                    "a chunk read after the stream's previous one differs from a fresh read" + where);
  }
  const sse::StreamTally& tally = decoder.tally();
  LLMD_FUZZ_CHECK(tally.events == recording.events.size(), "tally.events");
  LLMD_FUZZ_CHECK(tally.content_events + tally.error_events + tally.malformed_events <= tally.events, "tally kinds");
  LLMD_FUZZ_CHECK(tally.output_tokens() >= 0, "negative output tokens");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view stream = fuzz::as_text(data, size);
  const Recording recording = check_splits(stream, {});
  sse::SseParserOptions small;
  small.max_event_bytes = 16 + fuzz::hash_of(stream) % 512;
  check_splits(stream, small);
  for (const auto& event : recording.events) {
    check_decoders_agree(event.data);
  }
  check_tally(recording);
  return 0;
}
