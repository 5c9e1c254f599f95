#include "sim/prefix_cache.hpp"

#include <gtest/gtest.h>

#include <utility>

namespace llmd::sim {
namespace {

constexpr std::size_t k_block = 16;

// `count` distinct token ids first, first + 1, ...
std::vector<TokenId> token_run(TokenId first, std::size_t count) {
  std::vector<TokenId> tokens(count);
  for (std::size_t i = 0; i < count; ++i) {
    tokens[i] = first + static_cast<TokenId>(i);
  }
  return tokens;
}

std::vector<TokenId> concat(std::vector<TokenId> a, const std::vector<TokenId>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

CacheConfig small_pool(std::size_t num_blocks, bool caching = true) {
  return CacheConfig{.block_size_tokens = k_block, .num_blocks = num_blocks,
                     .enable_prefix_caching = caching};
}

TEST(BlockHashes, OnlyFullBlocksHaveHashes) {
  EXPECT_EQ(block_hashes(token_run(0, 70), k_block).size(), 4U);
  EXPECT_EQ(block_hashes(token_run(0, 64), k_block).size(), 4U);
  EXPECT_TRUE(block_hashes(token_run(0, 15), k_block).empty());
  EXPECT_TRUE(block_hashes({}, k_block).empty());
}

TEST(BlockHashes, PartialLastBlockDoesNotAffectHashes) {
  EXPECT_EQ(block_hashes(token_run(0, 70), k_block), block_hashes(token_run(0, 64), k_block));
}

TEST(BlockHashes, SamePromptGivesSameHashes) {
  const std::vector<BlockHash> first = block_hashes(token_run(7, 100), k_block);
  EXPECT_EQ(first, block_hashes(token_run(7, 100), k_block));
}

TEST(BlockHashes, SameBlockAfterDifferentPrefixHashesDifferently) {
  const std::vector<TokenId> block = token_run(1000, k_block);
  const std::vector<BlockHash> after_a = block_hashes(concat(token_run(0, 16), block), k_block);
  const std::vector<BlockHash> after_b = block_hashes(concat(token_run(50, 16), block), k_block);
  const std::vector<BlockHash> alone = block_hashes(block, k_block);
  ASSERT_EQ(after_a.size(), 2U);
  ASSERT_EQ(after_b.size(), 2U);
  EXPECT_NE(after_a[1], after_b[1]);
  EXPECT_NE(after_a[1], alone[0]);
}

TEST(BlockHashes, ChangedTokenChangesThatBlockAndEveryLaterOne) {
  std::vector<TokenId> tokens = token_run(0, 64);
  const std::vector<BlockHash> before = block_hashes(tokens, k_block);
  tokens[40] = 99999;  // block 2
  const std::vector<BlockHash> after = block_hashes(tokens, k_block);
  EXPECT_EQ(after[0], before[0]);
  EXPECT_EQ(after[1], before[1]);
  EXPECT_NE(after[2], before[2]);
  EXPECT_NE(after[3], before[3]);
}

TEST(PrefixCache, BlocksNeededRoundsUpToWholeBlocks) {
  const PrefixCache cache(small_pool(8));
  EXPECT_EQ(cache.blocks_needed(0), 0U);
  EXPECT_EQ(cache.blocks_needed(1), 1U);
  EXPECT_EQ(cache.blocks_needed(16), 1U);
  EXPECT_EQ(cache.blocks_needed(17), 2U);
  EXPECT_EQ(cache.blocks_needed(1000), 63U);
}

TEST(PrefixCache, SharedPrefixHitsOnlyAfterCommit) {
  PrefixCache cache(CacheConfig{});
  const std::vector<TokenId> prefix = token_run(0, 1000);
  const std::vector<BlockHash> a = block_hashes(concat(prefix, token_run(10000, 200)), k_block);
  const std::vector<BlockHash> b = block_hashes(concat(prefix, token_run(20000, 200)), k_block);

  const auto first = cache.allocate(a, 1200, 1300);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->hit_tokens, 0U);
  EXPECT_EQ(first->query_blocks, 75U);
  EXPECT_EQ(first->blocks_held, 82U);
  EXPECT_EQ(cache.peek_hit_tokens(b, 1200), 0U);  // not committed yet

  const auto before_commit = cache.allocate(b, 1200, 1200);
  ASSERT_TRUE(before_commit.has_value());
  EXPECT_EQ(before_commit->hit_tokens, 0U);
  cache.release(before_commit->id);

  cache.commit(first->id);
  EXPECT_EQ(cache.cached_blocks(), 75U);
  EXPECT_EQ(cache.peek_hit_tokens(b, 1200), 992U);
  const auto second = cache.allocate(b, 1200, 1200);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->hit_tokens, 992U);  // 62 whole blocks of the 1,000-token prefix
  EXPECT_EQ(second->hit_blocks, 62U);
  EXPECT_EQ(second->query_blocks, 75U);
  EXPECT_EQ(second->blocks_held, 75U);
  EXPECT_EQ(cache.used_blocks(), 82U + 75U - 62U);
}

TEST(PrefixCache, IdenticalPromptRecomputesAtLeastTheLastToken) {
  PrefixCache cache(small_pool(64));
  const std::vector<BlockHash> hashes = block_hashes(token_run(0, 64), k_block);
  const auto first = cache.allocate(hashes, 64, 80);
  ASSERT_TRUE(first.has_value());
  cache.commit(first->id);
  cache.release(first->id);

  EXPECT_EQ(cache.peek_hit_tokens(hashes, 64), 48U);  // cap: (64 - 1) / 16 = 3 blocks
  const auto second = cache.allocate(hashes, 64, 80);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->hit_tokens, 48U);
  EXPECT_EQ(second->hit_blocks, 3U);
  EXPECT_EQ(second->query_blocks, 4U);
  EXPECT_EQ(second->blocks_held, 5U);
  // The recomputed 4th block duplicates the cached one: it stays unhashed on commit.
  cache.commit(second->id);
  EXPECT_EQ(cache.cached_blocks(), 4U);
}

TEST(PrefixCache, PartialLastBlockIsNeverCachedOrHit) {
  PrefixCache cache(small_pool(64));
  const std::vector<TokenId> prompt = token_run(0, 70);  // 4 full blocks + 6 tokens
  const auto first = cache.allocate(block_hashes(prompt, k_block), 70, 70);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->blocks_held, 5U);
  cache.commit(first->id);
  EXPECT_EQ(cache.cached_blocks(), 4U);

  // Same 64 tokens, different tail: all 4 full blocks hit (cap (70 - 1) / 16 = 4).
  const std::vector<TokenId> other_tail = concat(token_run(0, 64), token_run(500, 6));
  EXPECT_EQ(cache.peek_hit_tokens(block_hashes(other_tail, k_block), 70), 64U);
  EXPECT_EQ(cache.peek_hit_tokens(block_hashes(prompt, k_block), 70), 64U);
  // A prompt shorter than one block has nothing to look up.
  EXPECT_EQ(cache.peek_hit_tokens(block_hashes(token_run(0, 10), k_block), 10), 0U);
  EXPECT_EQ(cache.peek_hit_tokens({}, 0), 0U);
}

TEST(PrefixCache, EvictionTakesAReleasedPrefixTailFirst) {
  PrefixCache cache(small_pool(8));
  const std::vector<BlockHash> a = block_hashes(token_run(0, 64), k_block);
  const auto first = cache.allocate(a, 64, 64);
  ASSERT_TRUE(first.has_value());
  cache.commit(first->id);
  cache.release(first->id);
  EXPECT_EQ(cache.cached_blocks(), 4U);
  EXPECT_EQ(cache.used_blocks(), 0U);

  // 6 new blocks: the 4 never-used blocks, then A's tail blocks 3 and 2.
  const std::vector<BlockHash> b = block_hashes(token_run(5000, 96), k_block);
  const auto other = cache.allocate(b, 96, 96);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->hit_tokens, 0U);
  EXPECT_EQ(cache.cached_blocks(), 2U);
  EXPECT_EQ(cache.peek_hit_tokens(a, 65), 32U);  // A's head blocks 0 and 1 still hit
}

TEST(PrefixCache, ReleaseQueuesBlocksTailFirst) {
  PrefixCache cache(small_pool(4));
  const std::vector<BlockHash> a = block_hashes(token_run(0, 64), k_block);
  const auto first = cache.allocate(a, 64, 64);
  ASSERT_TRUE(first.has_value());
  cache.commit(first->id);
  cache.release(first->id);
  EXPECT_EQ(cache.peek_hit_tokens(a, 65), 64U);

  const std::vector<BlockHash> none;
  const auto one = cache.allocate(none, 16, 16);  // evicts block 3
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(cache.peek_hit_tokens(a, 65), 48U);
  const auto two = cache.allocate(none, 16, 16);  // evicts block 2
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(cache.peek_hit_tokens(a, 65), 32U);
  EXPECT_EQ(cache.cached_blocks(), 2U);

  // Released blocks rejoin at the tail: the next eviction is still A's block 1, then 0.
  cache.release(one->id);
  const auto three = cache.allocate(none, 16, 16);
  ASSERT_TRUE(three.has_value());
  EXPECT_EQ(cache.peek_hit_tokens(a, 65), 16U);
}

TEST(PrefixCache, PinnedBlocksSurviveAndExhaustedPoolChangesNothing) {
  PrefixCache cache(small_pool(8));
  const std::vector<BlockHash> a = block_hashes(token_run(0, 64), k_block);
  const auto running = cache.allocate(a, 64, 96);  // 6 blocks, 4 cached after commit
  ASSERT_TRUE(running.has_value());
  cache.commit(running->id);

  const std::vector<BlockHash> b = block_hashes(token_run(7000, 48), k_block);
  EXPECT_FALSE(cache.allocate(b, 48, 48).has_value());  // needs 3, 2 free
  EXPECT_EQ(cache.used_blocks(), 6U);
  EXPECT_EQ(cache.cached_blocks(), 4U);
  EXPECT_DOUBLE_EQ(cache.usage(), 0.75);
  EXPECT_EQ(cache.peek_hit_tokens(a, 64), 48U);

  const std::vector<BlockHash> c = block_hashes(token_run(8000, 32), k_block);
  const auto fits = cache.allocate(c, 32, 32);
  ASSERT_TRUE(fits.has_value());
  EXPECT_EQ(cache.used_blocks(), 8U);
  EXPECT_EQ(cache.cached_blocks(), 4U);  // nothing pinned was evicted
  EXPECT_EQ(cache.peek_hit_tokens(a, 64), 48U);
  EXPECT_FALSE(cache.allocate({}, 1, 1).has_value());
}

TEST(PrefixCache, HitBlocksInTheFreeQueueCannotAlsoServeAsNewBlocks) {
  PrefixCache cache(small_pool(8));
  const std::vector<BlockHash> a = block_hashes(token_run(0, 64), k_block);
  const auto first = cache.allocate(a, 64, 64);
  ASSERT_TRUE(first.has_value());
  cache.commit(first->id);
  cache.release(first->id);
  const auto pinned = cache.allocate({}, 32, 32);  // 2 never-used blocks; 6 free remain
  ASSERT_TRUE(pinned.has_value());

  // Same prompt, 7 blocks: 3 hits un-freed + 4 new, but only 6 - 3 = 3 other free blocks.
  EXPECT_FALSE(cache.allocate(a, 64, 112).has_value());
  EXPECT_EQ(cache.used_blocks(), 2U);
  EXPECT_EQ(cache.cached_blocks(), 4U);
  EXPECT_EQ(cache.peek_hit_tokens(a, 65), 64U);

  const auto fits = cache.allocate(a, 64, 96);  // 3 hits + 3 new
  ASSERT_TRUE(fits.has_value());
  EXPECT_EQ(fits->hit_tokens, 48U);
  EXPECT_EQ(cache.used_blocks(), 8U);
  EXPECT_DOUBLE_EQ(cache.usage(), 1.0);
  EXPECT_EQ(cache.cached_blocks(), 3U);  // block 3 was free and evicted for a new block
}

TEST(PrefixCache, RequestLargerThanThePoolNeverFits) {
  PrefixCache cache(small_pool(4));
  EXPECT_EQ(cache.blocks_needed(65), 5U);
  EXPECT_FALSE(cache.allocate({}, 65, 65).has_value());
  EXPECT_EQ(cache.used_blocks(), 0U);
  EXPECT_TRUE(cache.allocate({}, 64, 64).has_value());
}

TEST(PrefixCache, CachingDisabledNeverHitsOrRegisters) {
  PrefixCache cache(small_pool(16, false));
  const std::vector<BlockHash> a = block_hashes(token_run(0, 64), k_block);
  const auto first = cache.allocate(a, 64, 64);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->query_blocks, 0U);
  cache.commit(first->id);
  EXPECT_EQ(cache.cached_blocks(), 0U);
  EXPECT_EQ(cache.peek_hit_tokens(a, 64), 0U);
  cache.release(first->id);

  const auto second = cache.allocate(a, 64, 64);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->hit_tokens, 0U);
  EXPECT_EQ(second->hit_blocks, 0U);
  EXPECT_EQ(second->blocks_held, 4U);
  EXPECT_EQ(cache.used_blocks(), 4U);
}

TEST(PrefixCache, ConcurrentIdenticalPromptsCacheOneCopy) {
  PrefixCache cache(small_pool(16));
  const std::vector<BlockHash> a = block_hashes(token_run(0, 64), k_block);
  const auto first = cache.allocate(a, 64, 64);
  const auto second = cache.allocate(a, 64, 64);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->hit_tokens, 0U);
  cache.commit(first->id);
  cache.commit(second->id);
  EXPECT_EQ(cache.cached_blocks(), 4U);
  cache.release(second->id);  // the unhashed copies queue ahead of the cached originals
  cache.release(first->id);
  EXPECT_EQ(cache.peek_hit_tokens(a, 65), 64U);
  EXPECT_EQ(cache.used_blocks(), 0U);

  // 12 new blocks: the 8 never-used ones and the 4 copies; the cached originals survive.
  const auto filler = cache.allocate({}, 192, 192);
  ASSERT_TRUE(filler.has_value());
  EXPECT_EQ(cache.cached_blocks(), 4U);
  EXPECT_EQ(cache.peek_hit_tokens(a, 65), 64U);
}

TEST(PrefixCache, UsageCountsSharedBlocksOnce) {
  PrefixCache cache(small_pool(10));
  const std::vector<BlockHash> a = block_hashes(token_run(0, 64), k_block);
  const auto first = cache.allocate(a, 64, 64);
  ASSERT_TRUE(first.has_value());
  EXPECT_DOUBLE_EQ(cache.usage(), 0.4);
  cache.commit(first->id);
  const auto second = cache.allocate(a, 64, 64);  // shares 3 blocks, 1 new
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(cache.used_blocks(), 5U);
  EXPECT_DOUBLE_EQ(cache.usage(), 0.5);
  cache.release(first->id);  // the shared blocks stay pinned by the second request
  EXPECT_EQ(cache.used_blocks(), 4U);
  cache.release(second->id);
  EXPECT_EQ(cache.used_blocks(), 0U);
  EXPECT_DOUBLE_EQ(cache.usage(), 0.0);
  EXPECT_EQ(cache.total_blocks(), 10U);
}

TEST(PrefixCache, UnknownOrRepeatedIdsAreNoOps) {
  PrefixCache cache(small_pool(8));
  const std::vector<BlockHash> a = block_hashes(token_run(0, 64), k_block);
  const auto first = cache.allocate(a, 64, 64);
  ASSERT_TRUE(first.has_value());
  cache.commit(first->id + 100);
  cache.release(first->id + 100);
  EXPECT_EQ(cache.cached_blocks(), 0U);
  EXPECT_EQ(cache.used_blocks(), 4U);
  cache.commit(first->id);
  cache.release(first->id);
  cache.release(first->id);
  cache.commit(first->id);
  EXPECT_EQ(cache.used_blocks(), 0U);
  EXPECT_EQ(cache.cached_blocks(), 4U);
}

TEST(PrefixCache, ResetDropsBlocksHashesAndAllocations) {
  PrefixCache cache(small_pool(8));
  const std::vector<BlockHash> a = block_hashes(token_run(0, 64), k_block);
  const auto first = cache.allocate(a, 64, 64);
  ASSERT_TRUE(first.has_value());
  cache.commit(first->id);
  cache.reset();
  EXPECT_EQ(cache.used_blocks(), 0U);
  EXPECT_EQ(cache.cached_blocks(), 0U);
  EXPECT_EQ(cache.peek_hit_tokens(a, 64), 0U);

  const auto after = cache.allocate(a, 64, 128);  // the whole pool is free again
  ASSERT_TRUE(after.has_value());
  EXPECT_NE(after->id, first->id);
  EXPECT_EQ(after->hit_tokens, 0U);
  cache.release(first->id);  // stale id from before the reset
  EXPECT_EQ(cache.used_blocks(), 8U);
}

TEST(PrefixCache, MovedCacheKeepsItsState) {
  PrefixCache cache(small_pool(8));
  const std::vector<BlockHash> a = block_hashes(token_run(0, 64), k_block);
  const auto first = cache.allocate(a, 64, 64);
  ASSERT_TRUE(first.has_value());
  cache.commit(first->id);
  PrefixCache moved(std::move(cache));
  EXPECT_EQ(moved.used_blocks(), 4U);
  EXPECT_EQ(moved.peek_hit_tokens(a, 64), 48U);
  PrefixCache assigned(small_pool(2));
  assigned = std::move(moved);
  EXPECT_EQ(assigned.total_blocks(), 8U);
  EXPECT_EQ(assigned.cached_blocks(), 4U);
}

}  // namespace
}  // namespace llmd::sim
