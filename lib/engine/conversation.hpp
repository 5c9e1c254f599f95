#pragma once
// Multi-turn prompts (scenario `requests.prompt: {kind: multi-turn}`, scenario/multi_turn_spec.hpp):
// each virtual user holds a conversation; each of its requests is the next turn, and resends the
// WHOLE history as chat messages:
//   [{"role":"system","content":SYSTEM}]            (system_prompt_tokens > 0: the same text for every conversation)
//   {"role":"user","content":U1}, {"role":"assistant","content":A1}, ...   (every earlier turn)
//   {"role":"user","content":Un}                     (the new turn)
// where each Ai is the text the server actually streamed back for turn i (RequestState keeps it with
// TransferSettings::capture_text; a non-streamed answer's choices[0].message.content). After the
// last turn, or after a turn that failed or was aborted (its answer is not known, so the history is
// broken), the user's next request starts a new conversation with a new session id.
//
// Determinism. A conversation's key is mix64(seed, phase key (a hash of the phase name), user index,
// the user's conversation ordinal); its number of turns, each user message's length and words, each
// turn's max_tokens and its session id ("llmd-<seed>-<key in hex>") derive from that key and the
// turn number only, so the same seed sends byte-identical user messages (the assistant messages are
// whatever the server answered). The phase name keeps a warm-up's conversations apart from the
// measured ones.
//
// Closed loop only (constant-vus, ramping-vus, iterations; the loader refuses open-loop phases): a
// turn needs the previous turn's answer, which only a user that waits for it has.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "engine/outcome.hpp"
#include "engine/prompt_source.hpp"
#include "engine/run_result.hpp"
#include "scenario/scenario.hpp"

namespace llmd::engine {

// Appends the generated text of one streamed chunk (choices[0].delta.content of a chat chunk, or
// choices[0].text of a completion chunk, decoded) to `out`; nothing for any other payload.
void append_chunk_text(std::string_view data, std::string& out);
// The generated text of a non-streamed answer: choices[0].message.content (chat) or choices[0].text;
// "" when the body has neither.
std::string answer_from_body(std::string_view body);

// A stable hash of a phase name (FNV-1a), the phase's part of every conversation key.
std::uint64_t phase_key(std::string_view phase_name);

// What the engine needs to send one turn.
struct TurnRequest {
  std::size_t number = 0;                // 1-based turn number in its conversation
  std::size_t turns = 0;                 // turns of the conversation
  const std::string* session_id = nullptr;  // RequestSpec::session_header's value; valid until the next call
};

class ConversationSource {
 public:
  explicit ConversationSource(const scenario::RequestSpec& spec);
  // The source keeps a reference to the spec: a temporary would dangle (ASan caught one in a test).
  explicit ConversationSource(scenario::RequestSpec&& spec) = delete;

  // The next turn of user `vu` of phase `phase` (index in the engine's run; `key` = phase_key(name)):
  // starts a conversation when the user has none going, appends the new user message to its history
  // and points `out.messages` at the history (valid until the next call for this user), with
  // out.max_tokens the turn's output_tokens (0: RequestSpec::max_tokens).
  TurnRequest next(std::size_t phase, std::uint64_t key, std::size_t vu, Prompt& out);
  // The turn in flight of (phase, vu) ended: ok, with the text the server sent, appends it as the
  // assistant's message. True when the conversation goes on (the user thinks, then sends its next
  // turn); false when it ended (last turn answered, or the turn failed or was aborted).
  bool finish(std::size_t phase, std::size_t vu, bool ok, std::string_view answer);

  // The history of (phase, vu)'s conversation; nullptr when the user never started one.
  const nlohmann::json* history(std::size_t phase, std::size_t vu) const;

 private:
  struct Conversation {
    std::uint64_t key = 0;
    std::uint64_t ordinal = 0;  // conversations this user has started
    std::size_t turns = 0;      // of the current conversation; 0: none going
    std::size_t sent = 0;       // turns sent so far
    nlohmann::json messages = nlohmann::json::array();
    std::string session_id;
  };
  void start(Conversation& conversation, std::uint64_t phase_key, std::size_t vu);

  const scenario::RequestSpec& m_spec;
  std::string m_system_prompt;
  std::map<std::pair<std::size_t, std::size_t>, Conversation> m_users;  // (phase, vu) -> its conversation
};

// Folds one ended turn into `phase.turns[turn - 1]` (growing it): ok / failed, TTFT of an ok stream
// (from its start: multi-turn is closed loop), and the usage.prompt_tokens and
// prompt_tokens_details.cached_tokens of an ok response that reported cached_tokens.
void record_turn(PhaseResult& phase, std::size_t turn, const Outcome& outcome, const RequestTiming& timing);
// A turn the engine aborted (graceful_stop ran out, second Ctrl-C).
void record_turn_aborted(PhaseResult& phase, std::size_t turn);

}  // namespace llmd::engine
