#pragma once
// Prompt generation for every scenario::PromptKind.
//
// Token counts. Generated prompts are built from short common English words (prompt_words.hpp),
// joined by single spaces. The simulator's tokenizer counts every whitespace-separated piece of
// <= 8 bytes as ONE token (sim/tokenizer.hpp), so against `llmd-bench sim` a `prefix_tokens: 1000`
// prefix is exactly 1,000 tokens and a shared_prefix prompt is exactly prefix_tokens +
// suffix_tokens. Against a real model the words were chosen to be single tokens in common BPE
// vocabularies (" the", " river"...), so the count is approximately right (typically within a few
// percent); the server's usage.prompt_tokens is the exact figure. With the chat API the text is
// the user message: the chat template adds its own tokens (the sim adds 1 per message).
//
// Determinism. Everything derives from RequestSpec::seed, the global request index and the
// session (virtual user) index, so two runs with the same seed send the same prompts.
//   fixed:         RequestSpec::text, every request.
//   shared_prefix: one prefix of prefix_tokens words for ALL requests, then suffix_tokens words that
//                  start with the global request index in base 256 (up to 4 words, one word per
//                  digit, least significant first) so no two requests share more than the prefix.
//   per_session:   as shared_prefix, but the prefix is derived from the session index: each virtual
//                  user has its own prefix, and session_id(session) for RequestSpec::session_header.
//   dataset:       records in file order, wrapping around, picked by the global request index
//                  (dataset.hpp); with replay: multi-turn each virtual user (`session`) replays one
//                  conversation turn by turn, then takes the next conversation not yet started.
//   trace:         the record `session` (the trace executor passes the record index as the session):
//                  shared hash_id blocks and a unique tail (trace.hpp).
//   random:        length drawn from RequestSpec::length (clamped to [min_tokens, max_tokens]),
//                  random words.
//   prefix_groups: a group's system prompt and one of its questions (prompt_groups.hpp).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/dataset.hpp"
#include "engine/trace.hpp"
#include "engine/prompt_groups.hpp"
#include "scenario/scenario.hpp"
#include "util/result.hpp"

namespace llmd::engine {

// One request's prompt. Reused across requests by the caller (text keeps its capacity).
struct Prompt {
  std::string text;                          // the completions prompt, or the chat user message
  const nlohmann::json* messages = nullptr;  // chat datasets: the line's "messages" array (then text is "");
                                             // points into the PromptSource, valid until its next fill()
                                             // (multi-turn: into the ConversationSource, engine/conversation.hpp)
  std::optional<std::size_t> max_tokens;     // this request's max_tokens (trace output_length, output_tokens:
                                             // dataset, prefix-groups output_tokens); nullopt: RequestSpec::max_tokens
};

// A length drawn from `length` by a generator seeded with `key`, rounded and clamped to
// [min_tokens, max_tokens] (constant: its value).
std::size_t draw_length(const scenario::LengthDistribution& length, std::uint64_t key);

// One distinct prefix of a workload, as cache_state.prime sends it and verify probes it.
struct PrefixPrompt {
  std::string label;       // "shared prefix", "session 3", "group 2"
  std::string text;        // the prefix alone (completions prompt, or the chat user message)
  std::size_t tokens = 0;  // its length by the generator's count (= the simulator's tokens), or by the
                           // server's POST /tokenize once calibrated (RequestSpec::calibrated)
  std::string session_id;  // the session header's value the workload sends with it; "" for none
};

class PromptSource {
 public:
  // Checks the spec (dataset readable, random length bounds sane). The dataset is read here, once.
  // Errors start with RequestSpec::where when known: "s.yaml:7: data/p.jsonl:3: not valid JSON: ...".
  static util::Result<PromptSource> create(const scenario::RequestSpec& spec);

  // Fills `out` for the request with global index `request_index`, sent by virtual user / session
  // `session` (closed loop: the VU index in its phase; open loop: request index % max_in_flight).
  void fill(std::uint64_t request_index, std::size_t session, Prompt& out);

  // The routing group of request `request_index` sent by `session`, as the prefixes' labels name it:
  // "shared prefix", "session 3", "group 2", "fixed prompt"; "" for kinds without a shared prefix
  // (random, trace, dataset). Multi-turn conversations are grouped by the engine (their session id).
  void group_of(std::uint64_t request_index, std::size_t session, std::string& out) const;

  // The value of RequestSpec::session_header for `session` ("llmd-<seed>-<session>").
  std::string session_id(std::size_t session) const;
  // True for PromptKind::per_session: requests carry the session header.
  bool sends_session_header() const { return m_spec.prompt == scenario::PromptKind::per_session; }

  // The workload's distinct prefixes (cache_state.prime / verify): shared_prefix: the one prefix;
  // per_session: one per session 0..max_sessions-1 (the most virtual users a measured phase has);
  // prefix_groups: one per group, its system prompt ("group 3"); other kinds: none (nothing to
  // prime; multi-turn: its system prompt is a chat message, see cache_state.cpp). A new kind with
  // prefixes implements it here.
  std::vector<PrefixPrompt> prefixes(std::size_t max_sessions);
  // The trace of PromptKind::trace (read by create()); nullptr for the other kinds.
  const Trace* trace() const { return m_trace ? &*m_trace : nullptr; }

  // shared_prefix / per_session: the prefix of `session` (shared_prefix: any) made of the first `words`
  // words of its generator stream, then `fillers` one-token filler words (k_filler_word): what the
  // calibrate stage measures with the server's POST /tokenize (run/calibrate.hpp). Deterministic.
  std::string generated_prefix(std::size_t session, std::size_t words, std::size_t fillers) const;
  // The filler word: one byte, so one token for any piece length and a single token in BPE vocabularies.
  static constexpr std::string_view k_filler_word = "a";

  // Length in words (= sim tokens) the random kind draws for request `request_index`.
  std::size_t random_length(std::uint64_t request_index) const;

 private:
  explicit PromptSource(scenario::RequestSpec spec) : m_spec(std::move(spec)) {}
  const std::string& session_prefix(std::size_t session);
  void append_suffix(std::uint64_t request_index, std::string& out) const;
  void fill_dataset(std::uint64_t request_index, std::size_t session, Prompt& out);
  std::optional<std::size_t> answer_tokens(std::optional<std::size_t> words) const;

  // replay: multi-turn: the conversation a virtual user is replaying and its next turn.
  struct Replaying {
    std::size_t entry = 0;
    std::size_t turn = 0;
  };

  scenario::RequestSpec m_spec;
  std::string m_shared_prefix;                                      // shared_prefix
  std::unordered_map<std::size_t, std::string> m_session_prefixes;  // per_session, built on first use
  std::vector<DatasetEntry> m_dataset;                              // dataset
  std::unordered_map<std::size_t, Replaying> m_replaying;           // dataset multi-turn, per session
  std::size_t m_next_conversation = 0;                              // dataset multi-turn
  nlohmann::json m_turn_messages;                                   // dataset multi-turn: the last turn sent
  std::optional<Trace> m_trace;                                     // trace
  std::optional<PrefixGroups> m_groups;                             // prefix_groups
};

}  // namespace llmd::engine
