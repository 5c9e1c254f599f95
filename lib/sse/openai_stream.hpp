#pragma once
// Decoder for the data payloads of an OpenAI-compatible streaming response from vLLM
// (/v1/completions: choices[].text; /v1/chat/completions: choices[].delta.content).
//
// Fed SseEvent::data one event at a time; classifies each payload and keeps a per-request tally
// (output tokens, [DONE] seen, in-band errors). Timing is the caller's job: it stamps the event
// whose kind is first `content` as the first token (TTFT), see VLLM-METRICS.md "Defining the first
// token". Reasoning models stream delta.reasoning_content (delta.reasoning in newer vLLM): that is
// generated text too, so it also makes an event `content`, but it is counted in reasoning_bytes.
//
// Text is measured in UTF-8 bytes of the DECODED string: "\u00e9" counts 2, "\n" counts 1, a raw
// "é" counts 2. Bytes, not characters or tokens: the tokenizer is not available here.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>
#include <tl/expected.hpp>

#include "sse/openai_error.hpp"

namespace llmd::sse {

enum class ChunkKind {
  content,      // at least one choice carries non-empty text: a token arrived
  empty_delta,  // choices present but no text: role-only first delta, "" content, finish-only chunk,
                // or "choices":[] without usage
  usage_only,   // no choices, non-null usage: the include_usage summary before [DONE]
  done,         // the literal [DONE] terminator
  error,        // in-band error object {"error":{...}}
  malformed,    // not JSON, or JSON that is not an OpenAI chunk (see OpenAiChunk::problem)
};

std::string_view to_string(ChunkKind kind);

struct Usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::optional<std::int64_t> cached_tokens;  // usage.prompt_tokens_details.cached_tokens, when reported
  bool operator==(const Usage&) const = default;
};

// Reads a non-null "usage" member (streamed summary chunk or non-streamed body): prompt_tokens and
// completion_tokens must be non-negative integers (an integral float such as 15.0 is accepted),
// prompt_tokens_details.cached_tokens too when present. Never throws: a wrong type, a missing count
// or a negative value is the message saying which, e.g. "\"usage\" has no non-negative integer
// \"completion_tokens\"".
tl::expected<Usage, std::string> read_usage_object(const nlohmann::json& usage);

// The decoded form of one data payload.
struct OpenAiChunk {
  ChunkKind kind = ChunkKind::malformed;
  std::size_t text_bytes = 0;       // decoded UTF-8 bytes of choices[].text and choices[].delta.content,
                                    // summed over the choices
  std::size_t reasoning_bytes = 0;  // same for choices[].delta.reasoning_content / .reasoning
  std::size_t choice_count = 0;     // elements of "choices"
  std::string_view finish_reason;   // last non-null choices[].finish_reason ("stop", "length", "abort"...),
                                    // escapes not decoded; "" if none. Valid until the next decode()
                                    // and while the payload passed to it lives.
  std::optional<Usage> usage;       // when the payload has a non-null "usage" object
  std::optional<ApiError> error;    // kind error: what the server reported
  std::string problem;              // kind malformed: what is wrong, quoting the payload
};

// What one request's stream amounted to, updated by every decode().
struct StreamTally {
  std::uint32_t events = 0;            // payloads decoded, [DONE] included
  std::uint32_t content_events = 0;    // events of kind content
  std::uint64_t text_bytes = 0;        // sum of OpenAiChunk::text_bytes
  std::uint64_t reasoning_bytes = 0;   // sum of OpenAiChunk::reasoning_bytes
  std::optional<Usage> last_usage;     // usage of the last payload that carried one
  std::string finish_reason;           // last non-empty finish_reason ("" if none)
  bool done_seen = false;              // [DONE] arrived
  std::uint32_t events_after_done = 0; // payloads after [DONE] (a protocol violation)
  std::uint32_t error_events = 0;      // in-band error payloads
  std::uint32_t malformed_events = 0;  // payloads of kind malformed
  std::optional<ApiError> first_error; // the first in-band error

  // Output tokens: usage.completion_tokens of the last chunk that had usage (vLLM's own count),
  // else the number of content events (one token per event; undercounts when the server batches).
  std::int64_t output_tokens() const;
};

// The start of the last chunk whose top-level members before "choices" were all skipped: its bytes up
// to that member's key, and what the scan knew there. Every chunk of one stream starts with the same
// `{"id":…,"object":…,"created":…,"model":…,` (vLLM, the simulator), so a payload that begins with
// exactly these bytes is in exactly this state at that offset: the scan resumes there instead of
// reading the same members again (~half of a completion chunk's bytes). Byte-identical or not used.
struct ChunkPrefix {
  std::string bytes;         // payload[0, bytes.size()): ends after the '{' or ',' before "choices"
  unsigned seen_bits = 0;    // the top-level SeenKeys at that point
  bool has_message = false;  // a top-level "message" member came before
  bool valid = false;
};

// The last chunk the scan read whole that held exactly one generated-text string (choices[0].text,
// delta.content or a reasoning field): a chunk with the same bytes before that string and the same
// bytes after it is that chunk but for the string, so it reads the same with the new string's length
// (the scan of identical bytes from an identical state is identical; only the string is read, and
// checked, again). A stream's content chunks differ only in their token (vLLM, the simulator).
struct ChunkTemplate {
  std::string bytes;           // the whole payload
  std::size_t text_begin = 0;  // its text string, quotes included: [text_begin, text_end)
  std::size_t text_end = 0;
  bool reasoning = false;      // the string counted as reasoning, not text
  std::size_t choice_count = 0;
  std::optional<Usage> usage;
  std::size_t finish_at = 0;   // finish_reason's offset in `bytes` (finish_length 0: none)
  std::size_t finish_length = 0;
  bool valid = false;
};

class OpenAiStreamDecoder {
 public:
  // Decodes one SSE data payload and folds it into tally().
  //
  // Fast path: a hand-written scanner (JsonCursor) walks the payload once without allocating or
  // building a DOM, looking only at top-level "choices" / "usage" / "error" and, inside each choice,
  // "text" / "delta" / "finish_reason"; everything else (logprobs, including their "text" and
  // "content" keys, token_ids, metrics) is skipped as an opaque value. nlohmann/json was considered
  // for every chunk, but a DOM per event (~16 per request at 45k req/s on one core) costs allocations
  // and several times the scan; it is kept as the fallback and validator: whenever the scanner is
  // unsure (syntax it rejects, escaped keys, non-integer counts, unexpected types, error payloads),
  // nlohmann parses the payload and decides, so an unusual but valid chunk is never called malformed.
  OpenAiChunk decode(std::string_view data);

  // The same classification done with nlohmann/json only (the fallback path; exposed for tests that
  // check both paths agree, and for callers that want a second opinion). Does not touch tally().
  OpenAiChunk decode_slow(std::string_view data);

  const StreamTally& tally() const { return m_tally; }

  // Starts a new request (clears tally()).
  void reset();

 private:
  void fold(const OpenAiChunk& chunk);

  StreamTally m_tally;
  // Both kept across reset(): a different stream's chunk simply does not match them.
  ChunkTemplate m_template;
  ChunkPrefix m_prefix;
  std::string m_slow_finish_reason;  // storage behind OpenAiChunk::finish_reason on the slow path
};

}  // namespace llmd::sse
