#pragma once
// The expected (ideal) prefix-cache hit rate of a run's workload (issue 13 item 4): what an
// infinitely large, perfectly routed fleet with vLLM's block-granular prefix caching would reach
// on the measured requests, starting from the cache the run made before them: EMPTY, or, when
// cache_state.prime primed prefixes, holding exactly those prefixes' full blocks (after a reset:
// api that verified the pods cold, that is the pods' state; without one, whatever the pods held
// before is not counted). The warm-up and the preflight request are not counted either: a warm-up
// that sent the same prompts can make the measured rate exceed it.
//
// The measured requests are regenerated from the scenario (request index 0, 1, ... as the load
// stage sent them; trace prompts: the records that started, in trace order), tokenized with the
// simulator's tokenizer (sim/tokenizer.hpp; chat prompts through its template "<|user|> text") and
// cut into full blocks with chained hashes (sim/prefix_cache.hpp). The primed prefixes are cut the
// same way, as the prime requests sent them, and held from the start. A request hits the longest
// run of its leading full blocks that the start or some earlier request held, capped as vLLM caps
// it (at most prompt - 1 tokens, whole blocks); every one of its full blocks is then held.
// ideal = Σ hit tokens / Σ prompt tokens.
//
// Computed for the generated kinds whose prompt depends on the request index only (fixed,
// shared-prefix, random, prefix-groups) and for trace prompts replayed by trace phases (the trace's
// hash_id blocks are byte-identical text, engine/trace.hpp, so the token blocks follow them); not
// for dataset prompts, nor for per-session ones (which user sent a request decides its prefix, and
// the run does not record that), nor for multi-turn ones (each turn resends the answers streamed
// back, which the run does not keep), nor past k_max_ideal_tokens prompt tokens (its cost:
// tokenizing each prompt, a hash per block).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/prompt_source.hpp"

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
  // The cache it starts from: empty (0 prefixes), or the primed prefixes' full blocks.
  std::size_t initial_prefixes = 0;    // primed prefixes held at the start
  std::uint64_t initial_blocks = 0;    // distinct full blocks they hold
  std::string initial_reset = "none";  // cache_state.reset before the priming: "api" | "restart" | "none"
};

// What the run did besides the request indexes: the prefixes it primed, the trace records it started.
struct IdealInputs {
  std::vector<engine::PrefixPrompt> primed;         // held from the start (cache_state.prime)
  std::string reset = "none";                       // cache_state.reset, for the report
  // trace prompts: the records that started, in order (nullopt: a phase that is not a trace phase
  // sent them, so which record a request was is not known)
  std::optional<std::vector<std::size_t>> trace_records;
  std::size_t tokenizer_piece_bytes = 8;  // the fleet's (sim.tokenizer_piece_bytes): tokens as its pods count them
};

// The ideal hit rate of the first `requests` requests of `spec` at `block_size_tokens` (trace: of
// inputs.trace_records); not computed past `max_prompt_tokens` prompt tokens.
// `inputs`: the primed prefixes and, for trace prompts, the records that started.
IdealHitRate ideal_hit_rate(const scenario::RequestSpec& spec, std::uint64_t requests, std::size_t block_size_tokens,
                            const IdealInputs& inputs = {}, std::uint64_t max_prompt_tokens = k_max_ideal_tokens);

// ideal_hit_rate for a run of `scenario` that started `requests` measured requests: the embedded
// simulator's block size, else 16 (stated in block_size_source).
IdealHitRate ideal_hit_rate(const scenario::Scenario& scenario, std::uint64_t requests, const IdealInputs& inputs = {});

}  // namespace llmd::run
