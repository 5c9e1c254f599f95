// Fuzz target: classification of a finished request (lib/engine/outcome classify()), mostly of
// non-streamed bodies (the JSON completion, or a non-2xx error body), and recording it into a phase
// result whose JSON is then written.
//
// Input: two control bytes, then the response body.
//   byte 0: bits 0-3 the HTTP status (k_statuses), bit 4 Content-Type JSON or SSE, bit 5 the body
//           was cut at its limit, bit 6 an SSE stream was requested (the body is then fed through
//           the SSE parser and the chunk decoder, as the engine does), bit 7 the request went out
//   byte 1: the libcurl result (k_codes)
// Invariants: classify never throws; a failure has a message; an ok request has a 2xx status, and
// token counts within [0, 1e15]; a non-streamed ok request had a JSON object body with a "choices"
// array; recording it keeps the phase's counters consistent, and the phase's JSON dumps.
#include <array>
#include <chrono>
#include <optional>

#include <nlohmann/json.hpp>

#include "engine/outcome.hpp"
#include "engine/run_result.hpp"
#include "fuzz/fuzz_support.hpp"
#include "sse/openai_stream.hpp"
#include "sse/sse_parser.hpp"
#include "util/json_text.hpp"

namespace {

using namespace llmd;

constexpr std::array<long, 16> k_statuses = {200, 200, 200, 200, 201, 204, 299, 400, 404, 429, 500, 503, 100, 0, 302, 600};
constexpr std::array<CURLcode, 8> k_codes = {CURLE_OK,           CURLE_OK,       CURLE_OK,          CURLE_PARTIAL_FILE,
                                             CURLE_RECV_ERROR,   CURLE_OPERATION_TIMEDOUT, CURLE_COULDNT_CONNECT,
                                             CURLE_SSL_CONNECT_ERROR};
constexpr std::int64_t k_max_token_count = 1'000'000'000'000'000;

// Feeds a streamed body to the parser and decoder as the engine's RequestState does.
class StreamReader final : public sse::SseListener {
 public:
  explicit StreamReader(std::string_view body) : m_parser(*this) {
    if (auto fed = m_parser.feed(body); !fed) {
      m_problem = fed.error();
    }
  }
  void on_event(const sse::SseEvent& event) override {
    const sse::OpenAiChunk chunk = m_decoder.decode(event.data);
    if (chunk.kind == sse::ChunkKind::malformed && m_problem.empty()) {
      m_problem = chunk.problem;
    }
  }
  const sse::StreamTally& tally() const { return m_decoder.tally(); }
  const std::string& problem() const { return m_problem; }

 private:
  sse::SseParser m_parser;
  sse::OpenAiStreamDecoder m_decoder;
  std::string m_problem;
};

bool in_count_range(std::int64_t count) { return count >= 0 && count <= k_max_token_count; }

void check_outcome(const engine::TransferFacts& facts, const engine::Outcome& outcome) {
  if (!outcome.ok) {
    LLMD_FUZZ_CHECK(!outcome.message.empty(), "a failure without a message");
    return;
  }
  LLMD_FUZZ_CHECK(facts.http_status >= 200 && facts.http_status <= 299, "ok with HTTP " + std::to_string(facts.http_status));
  LLMD_FUZZ_CHECK(in_count_range(outcome.output_tokens), "output tokens " + std::to_string(outcome.output_tokens));
  LLMD_FUZZ_CHECK(!outcome.cached_tokens || in_count_range(*outcome.cached_tokens), "cached tokens out of range");
  if (!facts.stream) {
    const auto body = nlohmann::json::parse(facts.body, nullptr, false);
    LLMD_FUZZ_CHECK(!body.is_discarded() && body.is_object() && body.contains("choices") && body["choices"].is_array(),
                    "ok without a completion body");
  }
}

void check_recording(const engine::TransferFacts& facts, const engine::Outcome& outcome) {
  engine::PhaseResult phase;
  phase.checks = {scenario::CheckKind::status_200, scenario::CheckKind::non_empty_content,
                  scenario::CheckKind::sse_content_type};
  engine::RequestTiming timing;
  timing.started = engine::TimePoint(std::chrono::seconds(1));
  timing.scheduled = timing.started;
  timing.first_byte = timing.started + std::chrono::microseconds(10);
  timing.ended = timing.first_byte + std::chrono::nanoseconds(facts.body.size());
  for (int twice = 0; twice < 2; ++twice) {
    engine::record_completion(phase, facts, outcome, timing, engine::LoopKind::closed);
  }
  LLMD_FUZZ_CHECK(phase.completed == 2 && phase.ok + phase.failed == 2, "phase counters");
  const auto tokens = outcome.ok ? static_cast<std::uint64_t>(outcome.output_tokens) : 0;
  LLMD_FUZZ_CHECK(phase.output_tokens_total == engine::saturating_add(tokens, tokens),
                  "token total " + std::to_string(phase.output_tokens_total) + " for 2 x " + std::to_string(tokens));
  const std::string json = util::dump_json(engine::to_json(phase));
  LLMD_FUZZ_CHECK(!json.empty(), "empty phase JSON");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) {
    return 0;
  }
  const std::uint8_t control = data[0];
  engine::TransferFacts facts;
  facts.http_status = k_statuses[control & 0x0fU];
  facts.content_type = (control & 0x10U) != 0 ? "text/event-stream; charset=utf-8" : "application/json";
  facts.body_truncated = (control & 0x20U) != 0;
  facts.stream = (control & 0x40U) != 0;
  facts.request_sent = (control & 0x80U) != 0;
  facts.code = k_codes[data[1] % k_codes.size()];
  facts.body = fuzz::as_text(data + 2, size - 2);
  std::optional<StreamReader> reader;
  if (facts.stream) {
    reader.emplace(facts.body);
    facts.tally = &reader->tally();
    facts.stream_problem = reader->problem();
  }
  const engine::Outcome outcome = engine::classify(facts);
  check_outcome(facts, outcome);
  check_recording(facts, outcome);
  return 0;
}
