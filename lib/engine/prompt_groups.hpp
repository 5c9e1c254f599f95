#pragma once
// The `prefix-groups` prompt generator (scenario/prefix_groups_spec.hpp), modelled on
// inference-perf's `shared_prefix` and SGLang's `generated-shared-prefix` datasets.
//
// A pass holds every (group, question) pair once: groups x prompts_per_group requests. Request i
// takes position p = i mod pass of it (so the workload wraps around after a pass) in the order
// asked for:
//   round-robin: group p mod groups, question p / groups (every group's question 0 first);
//   grouped:     group p / prompts_per_group, question p mod prompts_per_group;
//   random:      a seeded permutation of the pass (a Feistel network over the pass's indexes with
//                cycle walking: O(1) memory), keyed by the seed and the pass number, so every pass
//                is shuffled anew and still sends every pair exactly once.
// The prompt is the group's system prompt, one space, then the question, both common words
// (prompt_words.hpp: one simulator token each):
//   system prompt of group g: length drawn from system_prompt_tokens with the key (seed, g), words
//                             from (seed, g);
//   question q of group g:    length drawn from question_tokens with the key (seed, g, q); its first
//                             words (up to 4) are q in base 256, least significant first, so the
//                             questions of a group differ from their first word; the rest random;
//   max_tokens:               drawn from output_tokens with the key (seed, g, q) when it is set.
// Everything derives from the seed and the indexes: the same seed gives byte-identical prompts.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "scenario/prefix_groups_spec.hpp"
#include "util/result.hpp"

namespace llmd::engine {

// Which prompt a request sends.
struct GroupPick {
  std::size_t group = 0;
  std::size_t question = 0;
  bool operator==(const GroupPick&) const = default;
};

class PrefixGroups {
 public:
  // Fails when groups or prompts_per_group is 0 (the loader never lets that through).
  static util::Result<PrefixGroups> create(const scenario::PrefixGroupsSpec& spec, std::uint64_t seed);

  std::uint64_t pass_size() const { return m_pass; }  // groups x prompts_per_group
  GroupPick pick(std::uint64_t request_index) const;
  // Appends request `request_index`'s prompt to `out` (replaced). System prompts are built on first
  // use and kept (the loader bounds groups x their length).
  void fill(std::uint64_t request_index, std::string& out);
  // The request's max_tokens from output_tokens; nullopt when output_tokens is not set.
  std::optional<std::size_t> max_tokens(std::uint64_t request_index) const;
  // Lengths in words (= simulator tokens).
  std::size_t system_prompt_tokens(std::size_t group) const;
  std::size_t question_tokens(GroupPick pick) const;
  // Group `group`'s system prompt, the start of each of its prompts (built on first use and kept).
  const std::string& system_prompt(std::size_t group);
  std::size_t groups() const { return m_spec.groups; }

 private:
  PrefixGroups(const scenario::PrefixGroupsSpec& spec, std::uint64_t seed);
  std::uint64_t question_key(GroupPick pick) const;
  std::uint64_t shuffle(std::uint64_t position, std::uint64_t pass) const;

  scenario::PrefixGroupsSpec m_spec;
  std::uint64_t m_seed;
  std::uint64_t m_pass;
  unsigned m_half_bits = 1;  // random order: the Feistel network's half width, 4^m_half_bits >= m_pass
  std::unordered_map<std::size_t, std::string> m_system_prompts;
};

}  // namespace llmd::engine
