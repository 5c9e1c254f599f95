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

// The tag of every random stream generated text and arrival times draw from, in one place so that
// two streams never share one (the static_assert below): a stream is mix64(seed, tag, indexes...).
namespace stream_tag {
// prompt_source.cpp: shared-prefix, per-session, fixed and random prompts.
inline constexpr std::uint64_t shared_prefix = 1;
inline constexpr std::uint64_t session_prefix = 2;
inline constexpr std::uint64_t suffix = 3;
inline constexpr std::uint64_t random_words = 4;
inline constexpr std::uint64_t random_length = 5;
// conversation.cpp: multi-turn conversations.
inline constexpr std::uint64_t conversation = 11;
inline constexpr std::uint64_t conversation_system = 12;
inline constexpr std::uint64_t conversation_turns = 13;
inline constexpr std::uint64_t conversation_user_length = 14;
inline constexpr std::uint64_t conversation_user_words = 15;
inline constexpr std::uint64_t conversation_output = 16;
// prompt_groups.cpp: prefix groups.
inline constexpr std::uint64_t groups_system_length = 21;
inline constexpr std::uint64_t groups_system_words = 22;
inline constexpr std::uint64_t groups_question_length = 23;
inline constexpr std::uint64_t groups_question_words = 24;
inline constexpr std::uint64_t groups_output_length = 25;
inline constexpr std::uint64_t groups_order = 26;
// trace.cpp: a trace's hash-id blocks are seedless (the same id is the same text in every run and
// every trace: "traceb l"); its per-record tails ("traceta").
inline constexpr std::uint64_t trace_block = 0x7472616365626cULL;
inline constexpr std::uint64_t trace_tail = 0x74726163657461ULL;
// engine.cpp: open-loop arrival times of each phase ("pois").
inline constexpr std::uint64_t arrivals = 0x706f6973;

inline constexpr std::array<std::uint64_t, 20> k_all = {
    shared_prefix,        session_prefix,        suffix,                  random_words,          random_length,
    conversation,         conversation_system,   conversation_turns,      conversation_user_length,
    conversation_user_words, conversation_output, groups_system_length,   groups_system_words,
    groups_question_length, groups_question_words, groups_output_length,  groups_order,
    trace_block,          trace_tail,            arrivals,
};

constexpr bool all_distinct() {
  for (std::size_t i = 0; i < k_all.size(); ++i) {
    for (std::size_t j = i + 1; j < k_all.size(); ++j) {
      if (k_all[i] == k_all[j]) {
        return false;
      }
    }
  }
  return true;
}
static_assert(all_distinct(), "two random streams share a tag: give the new one its own value");
}  // namespace stream_tag

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

// Words that tell requests apart: the first k_index_words words spell `index` in base 256 (lowest
// digit first, one word per digit: distinct indexes differ within the first 4 words, which keeps
// a suffix from extending a cached prefix by accident); word i after them is tail(i).
inline constexpr std::size_t k_index_words = 4;

template <class Tail>
void append_index_words(std::string& out, std::uint64_t index, std::size_t count, Tail&& tail) {
  std::uint64_t digits = index;
  for (std::size_t i = 0; i < count; ++i) {
    if (i < k_index_words) {
      append_word(out, static_cast<std::size_t>(digits & 0xff));
      digits >>= 8U;
    } else {
      append_word(out, static_cast<std::size_t>(tail(i)));
    }
  }
}

}  // namespace llmd::engine
