#include "sim/tokenizer.hpp"

#include <algorithm>

namespace llmd::sim {
namespace {

constexpr std::uint32_t k_fnv32_offset_basis = 2166136261U;
constexpr std::uint32_t k_fnv32_prime = 16777619U;

// The whitespace bytes that separate pieces: the C locale's isspace() set, without the locale.
constexpr bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// 32-bit FNV-1a of the piece's bytes.
constexpr TokenId fnv1a_32(std::string_view piece) {
  std::uint32_t hash = k_fnv32_offset_basis;
  for (const char c : piece) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= k_fnv32_prime;
  }
  return hash;
}

// Calls on_piece(piece) for every piece of `text`, in order, without allocating.
template <typename OnPiece>
void for_each_piece(std::string_view text, std::size_t piece_bytes, OnPiece&& on_piece) {
  const std::size_t max_piece = std::clamp<std::size_t>(piece_bytes, 1, k_max_piece_bytes);
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (is_space(text[pos])) {
      ++pos;
      continue;
    }
    std::size_t run_end = pos;
    while (run_end < text.size() && !is_space(text[run_end])) {
      ++run_end;
    }
    // Cut the non-whitespace run [pos, run_end) into chunks of at most max_piece bytes.
    while (pos < run_end) {
      const std::size_t len = (run_end - pos < max_piece) ? run_end - pos : max_piece;
      on_piece(text.substr(pos, len));
      pos += len;
    }
  }
}

}  // namespace

std::vector<TokenId> tokenize(std::string_view text, std::size_t piece_bytes) {
  std::vector<TokenId> tokens;
  tokens.reserve(count_tokens(text, piece_bytes));
  for_each_piece(text, piece_bytes, [&tokens](std::string_view piece) { tokens.push_back(fnv1a_32(piece)); });
  return tokens;
}

std::size_t count_tokens(std::string_view text, std::size_t piece_bytes) {
  std::size_t count = 0;
  for_each_piece(text, piece_bytes, [&count](std::string_view /*piece*/) { ++count; });
  return count;
}

std::vector<std::string_view> token_pieces(std::string_view text, std::size_t piece_bytes) {
  std::vector<std::string_view> pieces;
  for_each_piece(text, piece_bytes, [&pieces](std::string_view piece) { pieces.push_back(piece); });
  return pieces;
}

Vocabulary::Vocabulary(std::size_t piece_bytes) : m_piece_bytes(piece_bytes) {}

void Vocabulary::learn(std::string_view text) {
  for_each_piece(text, m_piece_bytes, [this](std::string_view piece) {
    if (m_pieces.size() < k_max_entries) {
      m_pieces.try_emplace(fnv1a_32(piece), piece);
    }
  });
}

std::optional<std::string_view> Vocabulary::piece(TokenId id) const {
  const auto it = m_pieces.find(id);
  if (it == m_pieces.end()) {
    return std::nullopt;
  }
  return std::string_view(it->second);
}

}  // namespace llmd::sim
