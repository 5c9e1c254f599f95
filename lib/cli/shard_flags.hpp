#pragma once
// `run --shard i/N`, LLMD_SHARD=i/N, `--shards N` with a Kubernetes Indexed Job's
// JOB_COMPLETION_INDEX, and `--start-at` (run/shard.hpp).
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "run/shard.hpp"
#include "util/result.hpp"

namespace llmd::cli {

// The shard this process runs, from (in this order) --shard, LLMD_SHARD, or --shards N with
// JOB_COMPLETION_INDEX; nullopt when none is given. `shards` must agree with the count of a
// --shard / LLMD_SHARD given beside it. Errors name the flag or variable and what to write.
util::Result<std::optional<run::ShardPlan>> resolve_shard(const std::optional<std::string>& shard_flag,
                                                          std::optional<std::size_t> shards_flag);

// --start-at TEXT (util::parse_instant), the error prefixed with the flag.
util::Result<std::optional<std::chrono::system_clock::time_point>> resolve_start_at(const std::optional<std::string>& flag);

}  // namespace llmd::cli
