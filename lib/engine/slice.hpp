#pragma once
// A share of a run's load (issue 16): shard i of N (`run --shard i/N`, one load process of several)
// and, within one process, an engine thread (`--threads`).
//
// Item k of a numbered sequence (a closed-loop user, an open-loop arrival, a trace record, an
// iteration) belongs to slice `index` of `count` when k mod count == index. That is k6's execution
// segments in their simplest striped form, and it splits every count exactly at every instant: the
// users below a ramp's target, the arrivals due so far, the iterations of a phase. The slices'
// shares always sum to the whole, and their union is the unsliced run's schedule: an arrival keeps
// its global index and due time, a user keeps its global number (its prompts and sessions).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace llmd::engine {

struct Slice {
  std::size_t index = 0;
  std::size_t count = 1;

  bool whole() const { return count == 1; }
  bool owns(std::uint64_t k) const { return k % count == index; }
  // How many of the items 0 .. n-1 this slice owns.
  std::uint64_t share_of(std::uint64_t n) const { return n > index ? (n - index - 1) / count + 1 : 0; }
  // Slice `inner` of this slice (thread t of T inside shard i of N): item k is its own when k mod N == i
  // and (k div N) mod T == t, i.e. k mod (N T) == i + N t.
  Slice within(Slice inner) const { return {index + count * inner.index, count * inner.count}; }

  bool operator==(const Slice&) const = default;
};

// "i/N" with 0 <= i < N <= k_max_slices, e.g. "2/4"; the error says what was wrong.
util::Result<Slice> parse_slice(std::string_view text);
std::string to_string(const Slice& slice);  // "2/4"

// Most shards (or shards x threads) a run can be split into.
inline constexpr std::size_t k_max_slices = 4096;

}  // namespace llmd::engine
