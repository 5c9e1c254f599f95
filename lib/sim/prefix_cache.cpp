#include "sim/prefix_cache.hpp"

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <utility>

namespace llmd::sim {
namespace {

// Block hash: 64-bit FNV-1a over the parent block's hash (8 bytes, little endian) followed by
// each token id of the block (4 bytes each, little endian). The first block's parent is
// k_root_parent_hash, standing in for vLLM's NONE_HASH seed. Chaining the parent in makes equal
// token blocks after different prefixes hash differently, as in vLLM's hash_block_tokens.
constexpr std::uint64_t k_fnv64_offset_basis = 14695981039346656037ULL;
constexpr std::uint64_t k_fnv64_prime = 1099511628211ULL;
constexpr BlockHash k_root_parent_hash = 0x6c6c6d642d73696dULL;  // "llmd-sim"

constexpr std::uint64_t fnv1a_64_bytes(std::uint64_t hash, std::uint64_t value, int num_bytes) {
  for (int i = 0; i < num_bytes; ++i) {
    hash ^= (value >> (8 * i)) & 0xffU;
    hash *= k_fnv64_prime;
  }
  return hash;
}

BlockHash hash_block(BlockHash parent, std::span<const TokenId> block_tokens) {
  std::uint64_t hash = fnv1a_64_bytes(k_fnv64_offset_basis, parent, 8);
  for (const TokenId token : block_tokens) {
    hash = fnv1a_64_bytes(hash, token, 4);
  }
  return hash;
}

constexpr std::size_t k_no_block = std::numeric_limits<std::size_t>::max();

}  // namespace

std::vector<BlockHash> block_hashes(std::span<const TokenId> tokens, std::size_t block_size_tokens) {
  std::vector<BlockHash> hashes;
  if (block_size_tokens == 0) {
    return hashes;
  }
  const std::size_t full_blocks = tokens.size() / block_size_tokens;
  hashes.reserve(full_blocks);
  BlockHash parent = k_root_parent_hash;
  for (std::size_t i = 0; i < full_blocks; ++i) {
    parent = hash_block(parent, tokens.subspan(i * block_size_tokens, block_size_tokens));
    hashes.push_back(parent);
  }
  return hashes;
}

// Invariant: a block is in the free queue exactly when its ref_count is 0; a block has a hash
// exactly when hash_to_block maps that hash to it.
struct PrefixCache::State {
  struct Block {
    BlockHash hash = 0;
    bool has_hash = false;
    std::size_t ref_count = 0;
    std::size_t prev = k_no_block;  // free-queue neighbours (meaningful when ref_count == 0)
    std::size_t next = k_no_block;
  };
  struct AllocRecord {
    std::vector<std::size_t> blocks;   // prompt blocks first (hit blocks, then new), then output
    std::vector<BlockHash> hashes;     // full prompt block hashes, registered by commit()
    bool committed = false;
  };

  std::vector<Block> blocks;
  // Intrusive doubly linked LRU free queue (vLLM's FreeKVCacheBlockQueue): head is evicted first.
  std::size_t free_head = k_no_block;
  std::size_t free_tail = k_no_block;
  std::size_t free_count = 0;
  std::unordered_map<BlockHash, std::size_t> hash_to_block;
  std::unordered_map<AllocationId, AllocRecord> allocations;
  AllocationId next_id = 1;  // never reused, not even across reset(), so stale ids stay unknown

  explicit State(std::size_t num_blocks) : blocks(num_blocks) { make_all_free(); }

  void make_all_free() {
    free_head = k_no_block;
    free_tail = k_no_block;
    free_count = 0;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      blocks[i] = Block{};
      append_free(i);
    }
    hash_to_block.clear();
    allocations.clear();
  }

  void append_free(std::size_t index) {
    Block& block = blocks[index];
    block.prev = free_tail;
    block.next = k_no_block;
    if (free_tail == k_no_block) {
      free_head = index;
    } else {
      blocks[free_tail].next = index;
    }
    free_tail = index;
    ++free_count;
  }

  void remove_free(std::size_t index) {
    Block& block = blocks[index];
    if (block.prev == k_no_block) {
      free_head = block.next;
    } else {
      blocks[block.prev].next = block.next;
    }
    if (block.next == k_no_block) {
      free_tail = block.prev;
    } else {
      blocks[block.next].prev = block.prev;
    }
    block.prev = k_no_block;
    block.next = k_no_block;
    --free_count;
  }

  // Pops the LRU head of the free queue, evicting its cached hash. Caller checked free_count.
  std::size_t take_new_block() {
    const std::size_t index = free_head;
    remove_free(index);
    Block& block = blocks[index];
    if (block.has_hash) {
      hash_to_block.erase(block.hash);
      block.has_hash = false;
    }
    block.ref_count = 1;
    return index;
  }

  // Indices of the cached blocks forming the longest prefix of `hashes`, at most max_blocks.
  std::vector<std::size_t> find_hit_blocks(std::span<const BlockHash> hashes,
                                           std::size_t max_blocks) const {
    std::vector<std::size_t> hits;
    const std::size_t limit = std::min(hashes.size(), max_blocks);
    for (std::size_t i = 0; i < limit; ++i) {
      const auto it = hash_to_block.find(hashes[i]);
      if (it == hash_to_block.end()) {
        break;
      }
      hits.push_back(it->second);
    }
    return hits;
  }
};

PrefixCache::PrefixCache(CacheConfig config) : m_config(config) {
  m_config.block_size_tokens = std::max<std::size_t>(m_config.block_size_tokens, 1);
  m_state = std::make_unique<State>(m_config.num_blocks);
}

PrefixCache::~PrefixCache() = default;
PrefixCache::PrefixCache(PrefixCache&&) noexcept = default;
PrefixCache& PrefixCache::operator=(PrefixCache&&) noexcept = default;

namespace {

// vLLM's get_computed_blocks: max_cache_hit_length = num_tokens - 1, in whole blocks.
std::size_t max_hit_blocks(std::size_t prompt_tokens, std::size_t block_size_tokens) {
  return prompt_tokens == 0 ? 0 : (prompt_tokens - 1) / block_size_tokens;
}

}  // namespace

std::size_t PrefixCache::peek_hit_tokens(std::span<const BlockHash> hashes,
                                         std::size_t prompt_tokens) const {
  if (!m_config.enable_prefix_caching) {
    return 0;
  }
  const std::size_t max_blocks = max_hit_blocks(prompt_tokens, m_config.block_size_tokens);
  return m_state->find_hit_blocks(hashes, max_blocks).size() * m_config.block_size_tokens;
}

std::optional<PrefixCache::Allocation> PrefixCache::allocate(std::span<const BlockHash> hashes,
                                                             std::size_t prompt_tokens,
                                                             std::size_t total_tokens) {
  State& state = *m_state;
  std::vector<std::size_t> hits;
  if (m_config.enable_prefix_caching) {
    hits = state.find_hit_blocks(hashes, max_hit_blocks(prompt_tokens, m_config.block_size_tokens));
  }
  const std::size_t blocks_held = std::max(blocks_needed(total_tokens), hits.size());
  const std::size_t new_blocks = blocks_held - hits.size();
  // Hit blocks sitting in the free queue get un-freed by this allocation, so they cannot also
  // serve as new blocks (vLLM's num_evictable_computed_blocks).
  const auto evictable_hits = static_cast<std::size_t>(std::count_if(
      hits.begin(), hits.end(), [&state](std::size_t i) { return state.blocks[i].ref_count == 0; }));
  if (state.free_count - evictable_hits < new_blocks) {
    return std::nullopt;
  }

  State::AllocRecord record;
  record.blocks.reserve(blocks_held);
  for (const std::size_t index : hits) {  // pin the hits first so they cannot be evicted below
    State::Block& block = state.blocks[index];
    if (block.ref_count == 0) {
      state.remove_free(index);
    }
    ++block.ref_count;
    record.blocks.push_back(index);
  }
  for (std::size_t i = 0; i < new_blocks; ++i) {
    record.blocks.push_back(state.take_new_block());
  }
  if (m_config.enable_prefix_caching) {
    const std::size_t num_hashes = std::min(hashes.size(), blocks_held);
    record.hashes.assign(hashes.begin(), hashes.begin() + static_cast<std::ptrdiff_t>(num_hashes));
  }

  Allocation allocation;
  allocation.id = state.next_id++;
  allocation.hit_blocks = hits.size();
  allocation.hit_tokens = hits.size() * m_config.block_size_tokens;
  allocation.query_blocks = m_config.enable_prefix_caching ? hashes.size() : 0;
  allocation.blocks_held = blocks_held;
  state.allocations.emplace(allocation.id, std::move(record));
  return allocation;
}

std::size_t PrefixCache::blocks_needed(std::size_t total_tokens) const {
  const std::size_t block_size = m_config.block_size_tokens;
  return total_tokens / block_size + (total_tokens % block_size != 0 ? 1 : 0);
}

void PrefixCache::commit(AllocationId id) {
  State& state = *m_state;
  const auto it = state.allocations.find(id);
  if (it == state.allocations.end() || it->second.committed) {
    return;
  }
  State::AllocRecord& record = it->second;
  record.committed = true;
  for (std::size_t i = 0; i < record.hashes.size(); ++i) {
    State::Block& block = state.blocks[record.blocks[i]];
    if (block.has_hash || state.hash_to_block.contains(record.hashes[i])) {
      continue;  // a hit block, or a duplicate of a block cached meanwhile: keep the existing one
    }
    block.hash = record.hashes[i];
    block.has_hash = true;
    state.hash_to_block.emplace(block.hash, record.blocks[i]);
  }
}

void PrefixCache::release(AllocationId id) {
  State& state = *m_state;
  const auto it = state.allocations.find(id);
  if (it == state.allocations.end()) {
    return;
  }
  const std::vector<std::size_t>& held = it->second.blocks;
  // Tail block first: it lands nearer the queue head, so a prefix's tail is evicted before
  // its head (vLLM's SingleTypeKVCacheManager.free: reversed(req_blocks)).
  for (auto block_it = held.rbegin(); block_it != held.rend(); ++block_it) {
    State::Block& block = state.blocks[*block_it];
    --block.ref_count;
    if (block.ref_count == 0) {
      state.append_free(*block_it);
    }
  }
  state.allocations.erase(it);
}

void PrefixCache::reset() { m_state->make_all_free(); }

std::size_t PrefixCache::used_blocks() const { return m_config.num_blocks - m_state->free_count; }

std::size_t PrefixCache::cached_blocks() const { return m_state->hash_to_block.size(); }

double PrefixCache::usage() const {
  if (m_config.num_blocks == 0) {
    return 0.0;
  }
  return static_cast<double>(used_blocks()) / static_cast<double>(m_config.num_blocks);
}

}  // namespace llmd::sim
