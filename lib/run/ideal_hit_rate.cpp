#include "run/ideal_hit_rate.hpp"

#include <algorithm>
#include <string>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "engine/prompt_source.hpp"
#include "sim/openai_api.hpp"
#include "sim/prefix_cache.hpp"
#include "sim/tokenizer.hpp"

namespace llmd::run {

namespace {

using scenario::PromptKind;

std::string not_computed_reason(const scenario::RequestSpec& spec, const IdealInputs& inputs) {
  switch (spec.prompt) {
    case PromptKind::dataset: return "not computed for dataset prompts";
    case PromptKind::per_session:
      return "not computed for per-session prompts (a request's prefix is its virtual user's, which the run does not "
             "record)";
    case PromptKind::multi_turn:
      return "not computed for multi-turn prompts (each turn resends the answers actually streamed back, which the run "
             "does not keep)";
    case PromptKind::trace:
      return inputs.trace_records ? ""
                                  : "not computed for trace prompts sent by a phase that is not a trace phase (its "
                                    "request's record is its virtual user's, which the run does not record)";
    default: return "";
  }
}

// The tokens the server's prompt has for `text` as the run sends it (chat: through the template).
std::vector<sim::TokenId> sent_tokens(const scenario::RequestSpec& spec, const std::string& text, std::size_t piece_bytes) {
  return sim::tokenize(spec.api == scenario::ApiKind::chat ? sim::render_chat_prompt("user", text) : text, piece_bytes);
}

}  // namespace

IdealHitRate ideal_hit_rate(const scenario::RequestSpec& spec, std::uint64_t requests, std::size_t block_size_tokens,
                            const IdealInputs& inputs, std::uint64_t max_prompt_tokens) {
  IdealHitRate ideal;
  ideal.block_size_tokens = std::max<std::size_t>(1, block_size_tokens);
  ideal.requests = requests;
  ideal.initial_reset = inputs.reset;
  ideal.reason = not_computed_reason(spec, inputs);
  if (!ideal.reason.empty()) {
    return ideal;
  }
  auto prompts = engine::PromptSource::create(spec);
  if (!prompts) {
    ideal.reason = "not computed: " + prompts.error();
    return ideal;
  }
  const std::size_t block = ideal.block_size_tokens;
  std::unordered_set<sim::BlockHash> held;
  for (const auto& prefix : inputs.primed) {
    const std::vector<sim::BlockHash> hashes = sim::block_hashes(sent_tokens(spec, prefix.text, inputs.tokenizer_piece_bytes), block);
    held.insert(hashes.begin(), hashes.end());
  }
  ideal.initial_prefixes = inputs.primed.size();
  ideal.initial_blocks = held.size();
  const bool trace = spec.prompt == PromptKind::trace;
  if (trace) {
    ideal.requests = requests = inputs.trace_records->size();
  }
  engine::Prompt prompt;
  // The previous request's text, token count and block hashes: a fixed prompt sends the same text every time,
  // and tokenizing it again per request was most of this computation's cost (a memcmp replaces it).
  std::string last_text;
  bool have_last = false;
  std::size_t tokens = 0;
  std::vector<sim::BlockHash> hashes;
  for (std::uint64_t i = 0; i < requests; ++i) {
    // trace: the executor passes the record as the session (engine/prompt_source.hpp)
    prompts->fill(i, trace ? (*inputs.trace_records)[i] : 0, prompt);
    const bool repeated = have_last && prompt.text == last_text;
    if (!repeated) {
      const std::vector<sim::TokenId> sent = sent_tokens(spec, prompt.text, inputs.tokenizer_piece_bytes);
      tokens = sent.size();
      hashes = sim::block_hashes(sent, block);
      last_text = prompt.text;
      have_last = true;
    }
    ideal.prompt_tokens += tokens;
    if (ideal.prompt_tokens > max_prompt_tokens) {
      ideal.reason = fmt::format("not computed: the measured requests hold more than {} prompt tokens, the most this "
                                 "computation reads",
                                 max_prompt_tokens);
      ideal.prompt_tokens = 0;
      ideal.hit_tokens = 0;
      return ideal;
    }
    const std::size_t cap = tokens == 0 ? 0 : (tokens - 1) / block;  // hits <= prompt - 1 tokens
    std::size_t run = 0;
    if (repeated) {
      run = std::min(hashes.size(), cap);  // every block of the same text is held since its last request
    } else {
      while (run < hashes.size() && run < cap && held.contains(hashes[run])) {
        ++run;
      }
      held.insert(hashes.begin(), hashes.end());
    }
    ideal.hit_tokens += run * block;
  }
  if (ideal.prompt_tokens > 0) {
    ideal.rate = static_cast<double>(ideal.hit_tokens) / static_cast<double>(ideal.prompt_tokens);
  } else {
    ideal.reason = "not computed: no measured request";
  }
  return ideal;
}

IdealHitRate ideal_hit_rate(const scenario::Scenario& scenario, std::uint64_t requests, const IdealInputs& inputs) {
  const bool embedded = scenario.target.base_url.empty();
  IdealInputs with_tokenizer = inputs;
  with_tokenizer.tokenizer_piece_bytes = embedded ? scenario.sim.pod.tokenizer_piece_bytes : 8;
  IdealHitRate ideal =
      ideal_hit_rate(scenario.request, requests, embedded ? scenario.sim.pod.block_size_tokens : 16, with_tokenizer);
  ideal.block_size_source = embedded ? "sim.block_size" : "assumed (vLLM's default; the target's is not known)";
  return ideal;
}

}  // namespace llmd::run
