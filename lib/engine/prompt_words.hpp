#pragma once
// The 256 words generated prompts are made of, and the deterministic mixing that picks them.
//
// Each word is lowercase ASCII, <= 8 bytes (one token for the simulator's tokenizer) and a common
// English word that BPE vocabularies (Llama 3, GPT-4 family) hold as a single token when preceded
// by a space, so generated prompt lengths are close to the requested token counts on real models.
// 256 words: one byte of entropy per word, which encodes request indexes one word per base-256 digit.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "scenario/length_distribution.hpp"

namespace llmd::engine {

inline constexpr std::array<std::string_view, 256> k_prompt_words = {
    "the",     "of",      "and",     "to",      "in",      "is",      "was",     "for",     "on",      "that",
    "with",    "as",      "by",      "at",      "from",    "his",     "her",     "he",      "she",     "it",
    "they",    "we",      "you",     "be",      "are",     "were",    "this",    "which",   "or",      "an",
    "have",    "had",     "not",     "but",     "one",     "all",     "their",   "there",   "been",    "has",
    "more",    "would",   "when",    "who",     "will",    "can",     "no",      "out",     "up",      "time",
    "about",   "into",    "only",    "other",   "new",     "some",    "could",   "these",   "two",     "may",
    "first",   "then",    "do",      "any",     "like",    "my",      "now",     "over",    "such",    "our",
    "man",     "me",      "even",    "most",    "made",    "after",   "also",    "did",     "many",    "before",
    "must",    "through", "back",    "years",   "where",   "much",    "your",    "way",     "well",    "down",
    "should",  "because", "each",    "just",    "those",   "people",  "how",     "too",     "little",  "state",
    "good",    "very",    "make",    "world",   "still",   "own",     "see",     "men",     "work",    "long",
    "get",     "here",    "between", "both",    "life",    "being",   "under",   "never",   "day",     "same",
    "another", "know",    "while",   "last",    "might",   "us",      "great",   "old",     "year",    "off",
    "come",    "since",   "against", "go",      "came",    "right",   "used",    "take",    "three",   "small",
    "large",   "next",    "early",   "young",   "house",   "water",   "light",   "music",   "river",   "city",
    "green",   "blue",    "red",     "black",   "white",   "open",    "close",   "table",   "chair",   "paper",
    "stone",   "tree",    "road",    "car",     "ship",    "train",   "bird",    "fish",    "horse",   "dog",
    "cat",     "bread",   "milk",    "apple",   "sugar",   "salt",    "rain",    "snow",    "wind",    "fire",
    "earth",   "sun",     "moon",    "star",    "sky",     "sea",     "hill",    "field",   "garden",  "school",
    "market",  "bank",    "church",  "office",  "window",  "door",    "wall",    "floor",   "room",    "book",
    "letter",  "word",    "song",    "game",    "story",   "money",   "price",   "power",   "energy",  "system",
    "number",  "group",   "problem", "point",   "place",   "case",    "week",    "company", "part",    "hand",
    "eye",     "head",    "face",    "fact",    "night",   "home",    "child",   "voice",   "mind",    "body",
    "heart",   "friend",  "family",  "country", "order",   "level",   "party",   "reason",  "result",  "change",
    "moment",  "minute",  "hour",    "morning", "summer",  "winter",  "spring",  "north",   "south",   "east",
    "west",    "gold",    "silver",  "iron",    "glass",   "wood",
};

// SplitMix64 finalizer: a cheap, well-mixed 64-bit hash of `value`.
constexpr std::uint64_t mix64(std::uint64_t value) {
  value += 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

// Hash of an ordered tuple of numbers (seed, stream tag, indexes...).
constexpr std::uint64_t mix64(std::uint64_t a, std::uint64_t b, std::uint64_t c = 0, std::uint64_t d = 0) {
  return mix64(mix64(mix64(mix64(a) ^ b) ^ c) ^ d);
}

// A UniformRandomBitGenerator over mix64 (usable with <random> distributions; trivially seeded).
class SplitMix64 {
 public:
  using result_type = std::uint64_t;
  explicit SplitMix64(std::uint64_t seed) : m_state(seed) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() {
    m_state += 0x9e3779b97f4a7c15ULL;
    return mix64(m_state);
  }

 private:
  std::uint64_t m_state;
};

// A token count drawn from `length` with the random stream `key` (mix64 of the seed, a tag and
// indexes), rounded and clamped to [min_tokens, max_tokens] (prompt_source.cpp).
std::size_t draw_length(const scenario::LengthDistribution& length, std::uint64_t key);

// Appends word `word & 0xff`, after a space unless `out` is empty.
inline void append_word(std::string& out, std::size_t word) {
  if (!out.empty()) {
    out += ' ';
  }
  out += k_prompt_words[word & 0xff];
}

// Appends `count` words picked by mix64(seed, tag, stream, i), i = 0..count-1.
inline void append_words(std::string& out, std::uint64_t seed, std::uint64_t tag, std::uint64_t stream,
                         std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    append_word(out, static_cast<std::size_t>(mix64(seed, tag, stream, i)));
  }
}

}  // namespace llmd::engine
