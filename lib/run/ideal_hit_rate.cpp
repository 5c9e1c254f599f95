#include "run/ideal_hit_rate.hpp"

#include <algorithm>
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

std::string not_computed_reason(PromptKind kind) {
  switch (kind) {
    case PromptKind::dataset: return "not computed for dataset prompts";
    case PromptKind::per_session:
      return "not computed for per-session prompts (a request's prefix is its virtual user's, which the run does not "
             "record)";
    default: return "";
  }
}

}  // namespace

IdealHitRate ideal_hit_rate(const scenario::RequestSpec& spec, std::uint64_t requests, std::size_t block_size_tokens,
                            std::uint64_t max_prompt_tokens) {
  IdealHitRate ideal;
  ideal.block_size_tokens = std::max<std::size_t>(1, block_size_tokens);
  ideal.requests = requests;
  ideal.reason = not_computed_reason(spec.prompt);
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
  engine::Prompt prompt;
  std::string text;
  for (std::uint64_t i = 0; i < requests; ++i) {
    prompts->fill(i, 0, prompt);
    const std::string& sent = spec.api == scenario::ApiKind::chat ? (text = sim::render_chat_prompt("user", prompt.text))
                                                                  : prompt.text;
    const std::vector<sim::TokenId> tokens = sim::tokenize(sent);
    ideal.prompt_tokens += tokens.size();
    if (ideal.prompt_tokens > max_prompt_tokens) {
      ideal.reason = fmt::format("not computed: the measured requests hold more than {} prompt tokens, the most this "
                                 "computation reads",
                                 max_prompt_tokens);
      ideal.prompt_tokens = 0;
      ideal.hit_tokens = 0;
      return ideal;
    }
    const std::vector<sim::BlockHash> hashes = sim::block_hashes(tokens, block);
    const std::size_t cap = tokens.empty() ? 0 : (tokens.size() - 1) / block;  // hits <= prompt - 1 tokens
    std::size_t run = 0;
    while (run < hashes.size() && run < cap && held.contains(hashes[run])) {
      ++run;
    }
    ideal.hit_tokens += run * block;
    held.insert(hashes.begin(), hashes.end());
  }
  if (ideal.prompt_tokens > 0) {
    ideal.rate = static_cast<double>(ideal.hit_tokens) / static_cast<double>(ideal.prompt_tokens);
  } else {
    ideal.reason = "not computed: no measured request";
  }
  return ideal;
}

IdealHitRate ideal_hit_rate(const scenario::Scenario& scenario, std::uint64_t requests) {
  const bool embedded = scenario.target.base_url.empty();
  IdealHitRate ideal = ideal_hit_rate(scenario.request, requests, embedded ? scenario.sim.pod.block_size_tokens : 16);
  ideal.block_size_source = embedded ? "sim.block_size" : "assumed (vLLM's default; the target's is not known)";
  return ideal;
}

}  // namespace llmd::run
