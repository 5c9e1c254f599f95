#pragma once
// The simulator's deterministic tokenizer. It stands in for a model's BPE tokenizer so that
// prompt lengths, cache blocks and hit counts are reproducible; llmd-bench's prompt generators
// use the same rule to build prompts of an exact token length.
//
// Rule (documented in README "Simulator"): the text is split into pieces; a piece is a maximal
// run of non-whitespace bytes, cut into chunks of at most k_max_piece_bytes bytes, and each
// whitespace byte run is dropped. Every piece is one token whose id is the 32-bit FNV-1a hash
// of its bytes. So "w1 w2 w3" is 3 tokens and a prompt of N space-separated short words is N
// tokens. An empty or all-whitespace text has 0 tokens.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace llmd::sim {

using TokenId = std::uint32_t;

inline constexpr std::size_t k_max_piece_bytes = 8;

std::vector<TokenId> tokenize(std::string_view text);
std::size_t count_tokens(std::string_view text);

}  // namespace llmd::sim
