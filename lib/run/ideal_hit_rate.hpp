#pragma once
// The expected (ideal) prefix-cache hit rate of a run's workload (issue 13 item 4): what an
// infinitely large, perfectly routed fleet with vLLM's block-granular prefix caching would reach
// on the measured requests, starting from an EMPTY cache (the warm-up, the preflight request and
// whatever the pods held before are not counted: a warm-up that sent the same prompts can make the
// measured rate exceed it).
//
// The measured requests are regenerated from the scenario (request index 0, 1, ... as the load
// stage sent them), tokenized with the simulator's tokenizer (sim/tokenizer.hpp; chat prompts
// through its template "<|user|> text") and cut into full blocks with chained hashes
// (sim/prefix_cache.hpp). A request hits the longest run of its leading full blocks that some
// earlier request held, capped as vLLM caps it (at most prompt - 1 tokens, whole blocks); every one
// of its full blocks is then held. ideal = Σ hit tokens / Σ prompt tokens.
//
// Computed for the generated kinds whose prompt depends on the request index only (fixed,
// shared-prefix, random, prefix-groups); not for dataset prompts, nor for per-session ones (which
// user sent a request decides its prefix, and the run does not record that), nor past
// k_max_ideal_tokens prompt tokens (its cost: tokenizing each prompt, a hash per block).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "scenario/scenario.hpp"

namespace llmd::run {

// The most prompt tokens the computation reads (~1 s and, for prompts that share nothing, ~100 MB
// of block hashes).
inline constexpr std::uint64_t k_max_ideal_tokens = std::uint64_t{1} << 25;

struct IdealHitRate {
  std::optional<double> rate;          // Σ hit / Σ prompt tokens; nullopt: not computed (`reason`)
  std::uint64_t requests = 0;          // measured requests it covers
  std::uint64_t prompt_tokens = 0;     // Σ prompt tokens (simulator tokenizer)
  std::uint64_t hit_tokens = 0;        // Σ ideal hit tokens
  std::size_t block_size_tokens = 16;
  std::string block_size_source;       // "sim.block_size" or "assumed (vLLM's default; the target's is not known)"
  std::string reason;                  // why it was not computed ("" when it was)
};

// The ideal hit rate of the first `requests` requests of `spec` at `block_size_tokens`; not computed
// past `max_prompt_tokens` prompt tokens.
IdealHitRate ideal_hit_rate(const scenario::RequestSpec& spec, std::uint64_t requests, std::size_t block_size_tokens,
                            std::uint64_t max_prompt_tokens = k_max_ideal_tokens);

// ideal_hit_rate for a run of `scenario` that started `requests` measured requests: the embedded
// simulator's block size, else 16 (stated in block_size_source).
IdealHitRate ideal_hit_rate(const scenario::Scenario& scenario, std::uint64_t requests);

}  // namespace llmd::run
