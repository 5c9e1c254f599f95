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
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace llmd::sim {

using TokenId = std::uint32_t;

inline constexpr std::size_t k_max_piece_bytes = 8;

// `piece_bytes` (1..k_max_piece_bytes; 0 is treated as 1): the chunk length pieces are cut at, the
// fleet's sim.tokenizer_piece_bytes / --tokenizer-piece-bytes. Below 8 the simulator's tokenizer
// differs from the prompt generators' one-token-per-word rule (with 3, "river" is 2 tokens, as a
// BPE splits a rarer word), which is what `requests.token_counts.calibrate` corrects.
std::vector<TokenId> tokenize(std::string_view text, std::size_t piece_bytes = k_max_piece_bytes);
std::size_t count_tokens(std::string_view text, std::size_t piece_bytes = k_max_piece_bytes);

// The pieces of `text` (token i's text is piece i), views into `text`.
std::vector<std::string_view> token_pieces(std::string_view text, std::size_t piece_bytes = k_max_piece_bytes);

// Token id -> piece, for `POST /detokenize`. A token id is a hash, so it cannot be inverted: the
// vocabulary learns the pieces of the texts the simulator tokenized for `POST /tokenize` (one
// vocabulary per fleet, so a detokenize on another pod than the tokenize knows them) plus the
// words the pods generate. At most k_max_entries pieces are kept (~50 MiB); later new pieces are
// not learned. The first piece seen keeps an id two pieces hash to. Not thread-safe: one
// io_context thread serves a fleet.
class Vocabulary {
 public:
  static constexpr std::size_t k_max_entries = std::size_t{1} << 20;

  explicit Vocabulary(std::size_t piece_bytes = k_max_piece_bytes);
  void learn(std::string_view text);
  // The piece of `id`; nullopt when it was never learned.
  std::optional<std::string_view> piece(TokenId id) const;
  std::size_t size() const { return m_pieces.size(); }

 private:
  std::unordered_map<TokenId, std::string> m_pieces;
  std::size_t m_piece_bytes;
};

}  // namespace llmd::sim
