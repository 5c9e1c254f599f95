#pragma once
// A run as one shard of several (issue 16): `run --shard i/N` (or LLMD_SHARD=i/N, or a Kubernetes
// Indexed Job's JOB_COMPLETION_INDEX with --shards N) runs slice i of every phase (engine/slice.hpp)
// against the shared target, starts its measured loop at --start-at with the other shards, and
// writes a shard result: raw histograms, counts, checks and the phase timeline, no verdict of its
// own (`llmd-bench merge` judges the shards together) and no cache snapshots (the coordinator takes
// them once, before and after, with `llmd-bench scrape --save-dir`).
#include <chrono>
#include <optional>
#include <string>

#include "engine/slice.hpp"
#include "scenario/scenario.hpp"
#include "util/result.hpp"

namespace llmd::run {

struct ShardPlan {
  engine::Slice slice;  // the share of every phase this process runs
  std::string origin;   // how it was given: "--shard", "LLMD_SHARD", "JOB_COMPLETION_INDEX with --shards"
};

// What a scenario run as a shard may not do: run without a shared target, restart or reset pods,
// prime the cache, churn pods (each is done once, by the coordinator), or have a phase that cannot
// be split that many ways. The error names the setting (file:line) and what to do instead.
util::Result<void> check_shardable(const scenario::Scenario& s, const engine::Slice& slice);
// engine.threads > 1 (`--threads`): every phase must split that many ways within `shard` (the whole
// run when not sharded), checked before anything starts; the error names engine.threads' source.
util::Result<void> check_threadable(const scenario::Scenario& s, const engine::Slice& shard);

// How a shard's measured loop met its --start-at (RunReport::start).
struct StartAt {
  std::chrono::system_clock::time_point at;  // asked for
  std::chrono::nanoseconds waited{};         // slept before the load started
  std::chrono::nanoseconds late{};           // > 0: the load started this long after `at` (it was in the past)
};

// A start this late is reported as a warning diagnostic (start_at_late): the shards did not run together.
inline constexpr std::chrono::milliseconds k_start_at_tolerance{500};

}  // namespace llmd::run
