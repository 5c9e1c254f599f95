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
//   dataset:       JSONL lines in file order, wrapping around, picked by the global request index.
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

#include "engine/prompt_groups.hpp"
#include "scenario/scenario.hpp"
#include "util/result.hpp"

namespace llmd::engine {

// One request's prompt. Reused across requests by the caller (text keeps its capacity).
struct Prompt {
  std::string text;                          // the completions prompt, or the chat user message
  const nlohmann::json* messages = nullptr;  // chat datasets: the line's "messages" array (then text is "");
                                             // points into the PromptSource, valid while it lives
  std::optional<std::size_t> max_tokens;     // this request's max_tokens (prefix-groups output_tokens);
                                             // nullopt = RequestSpec::max_tokens
};

// One dataset line, already checked: either a prompt text or a chat message array.
struct DatasetEntry {
  std::string prompt;       // {"prompt": "..."}; chat API: sent as one user message
  nlohmann::json messages;  // {"messages": [...]}: null when the line had "prompt"
};

// Reads a JSONL dataset. Empty lines are skipped. Errors name the file and the 1-based line:
//   "data/p.jsonl:3: not valid JSON: \"{oops\""
//   "data/p.jsonl:4: expected an object with \"prompt\" (a string) or \"messages\" (an array of
//    {\"role\",\"content\"} objects), got: {\"text\":\"hi\"}"
//   "data/p.jsonl:5: \"messages\" needs request.api: chat (completions takes \"prompt\")"
//   "data/p.jsonl: no prompts (expected one JSON object per line)"
util::Result<std::vector<DatasetEntry>> load_dataset(const std::string& path, scenario::ApiKind api);

class PromptSource {
 public:
  // Checks the spec (dataset readable, random length bounds sane). The dataset is read here, once.
  // Errors start with RequestSpec::where when known: "s.yaml:7: data/p.jsonl:3: not valid JSON: ...".
  static util::Result<PromptSource> create(const scenario::RequestSpec& spec);

  // Fills `out` for the request with global index `request_index`, sent by virtual user / session
  // `session` (closed loop: the VU index in its phase; open loop: request index % max_in_flight).
  void fill(std::uint64_t request_index, std::size_t session, Prompt& out);

  // The value of RequestSpec::session_header for `session` ("llmd-<seed>-<session>").
  std::string session_id(std::size_t session) const;
  // True for PromptKind::per_session: requests carry the session header.
  bool sends_session_header() const { return m_spec.prompt == scenario::PromptKind::per_session; }

  // Length in words (= sim tokens) the random kind draws for request `request_index`.
  std::size_t random_length(std::uint64_t request_index) const;

 private:
  explicit PromptSource(scenario::RequestSpec spec) : m_spec(std::move(spec)) {}
  const std::string& session_prefix(std::size_t session);
  void append_suffix(std::uint64_t request_index, std::string& out) const;

  scenario::RequestSpec m_spec;
  std::string m_shared_prefix;                                      // shared_prefix
  std::unordered_map<std::size_t, std::string> m_session_prefixes;  // per_session, built on first use
  std::vector<DatasetEntry> m_dataset;                              // dataset
  std::optional<PrefixGroups> m_groups;                             // prefix_groups
};

}  // namespace llmd::engine
