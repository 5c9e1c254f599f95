#pragma once
// Emulation of vLLM V1's automatic prefix caching (vllm/v1/core/kv_cache_manager.py,
// block_pool.py, kv_cache_utils.py):
//  - the KV cache is a pool of `num_blocks` blocks of `block_size_tokens` tokens;
//  - each FULL block of a prompt is identified by a hash chained over its parent block's hash
//    and its own token ids (so equal blocks after different prefixes differ);
//  - a request's cache hit is the longest run of cached full blocks from the start of the prompt,
//    capped so at least one prompt token is computed (hits <= prompt_tokens - 1, whole blocks);
//  - blocks held by running requests are pinned (ref count); blocks no request holds stay cached
//    in an LRU free queue and are evicted (their hash forgotten) only when a new block is needed;
//    a finished request frees its blocks tail first, so a prefix's tail is evicted before its head
//    (vLLM's FreeKVCacheBlockQueue order);
//  - with prefix caching disabled nothing is ever a hit and blocks are never reused.
// Counting (queries, hits) is the caller's job; this class reports per-allocation numbers.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "sim/tokenizer.hpp"

namespace llmd::sim {

using BlockHash = std::uint64_t;

// Chained hashes of the FULL blocks of `tokens` (a trailing partial block has none).
// Hash of block i: 64-bit FNV-1a over hash(i-1) (8 bytes, little endian; a fixed seed for
// block 0, like vLLM's NONE_HASH) followed by the block's token ids (4 bytes each, little endian).
std::vector<BlockHash> block_hashes(std::span<const TokenId> tokens, std::size_t block_size_tokens);

struct CacheConfig {
  std::size_t block_size_tokens = 16;  // 0 is treated as 1
  std::size_t num_blocks = 8192;
  bool enable_prefix_caching = true;
};

class PrefixCache {
 public:
  using AllocationId = std::uint64_t;

  struct Allocation {
    AllocationId id = 0;
    std::size_t hit_tokens = 0;     // prompt tokens served from cache (multiple of block size, < prompt)
    std::size_t hit_blocks = 0;     // hit_tokens / block size
    std::size_t query_blocks = 0;   // full prompt blocks looked up (0 with caching disabled)
    std::size_t blocks_held = 0;    // blocks this request pins (prompt + output)
  };

  explicit PrefixCache(CacheConfig config);
  ~PrefixCache();
  PrefixCache(PrefixCache&&) noexcept;
  PrefixCache& operator=(PrefixCache&&) noexcept;

  const CacheConfig& config() const { return m_config; }

  // Hit tokens an allocation would get now, without changing any state.
  std::size_t peek_hit_tokens(std::span<const BlockHash> hashes, std::size_t prompt_tokens) const;

  // Admits a request of `prompt_tokens` (whose full-block hashes are `hashes`) that will hold
  // `total_tokens` (prompt + max output) tokens of KV: pins the cached prefix blocks and takes
  // new blocks for the rest, evicting LRU unpinned cached blocks as needed. Returns nullopt and
  // changes nothing when the pool cannot supply the blocks now.
  std::optional<Allocation> allocate(std::span<const BlockHash> hashes, std::size_t prompt_tokens,
                                     std::size_t total_tokens);

  // Blocks a request of `total_tokens` needs; a request needing more than num_blocks can never run.
  std::size_t blocks_needed(std::size_t total_tokens) const;

  // Prefill of allocation `id` finished: its full prompt blocks become cached (reusable by later
  // requests). Blocks whose hash is already cached stay as they are.
  void commit(AllocationId id);

  // The request finished or was aborted: unpins its blocks. Cached blocks go to the tail of the
  // LRU free queue (tail block first); uncached blocks return to the free pool.
  void release(AllocationId id);

  // Drops every block and allocation, as after a pod restart.
  void reset();

  std::size_t total_blocks() const { return m_config.num_blocks; }
  std::size_t used_blocks() const;     // blocks pinned by running requests
  std::size_t cached_blocks() const;   // blocks with a hash (pinned or not)
  double usage() const;                // used_blocks / total_blocks, as vllm:kv_cache_usage_perc

 private:
  CacheConfig m_config;
  // Implementation state (free queue, hash map, ref counts, allocations) lives below; the
  // implementation may restructure it freely.
  struct State;
  std::unique_ptr<State> m_state;
};

}  // namespace llmd::sim
