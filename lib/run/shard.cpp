#include "run/shard.hpp"

#include <span>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "engine/executors.hpp"

namespace llmd::run {

namespace {

// Each phase (the warm-up first) split by every one of `slices`: the first phase that cannot be,
// its error prefixed "warm-up " for the warm-up.
util::Result<void> check_split(const scenario::Scenario& s, std::span<const engine::Slice> slices) {
  const auto check = [slices](const scenario::Phase& phase, std::string_view label) -> util::Result<void> {
    for (const auto& slice : slices) {
      if (auto ok = engine::validate_phase(phase, slice); !ok) {
        return util::fail(fmt::format("{}{}", label, ok.error()));
      }
    }
    return {};
  };
  if (s.warmup) {
    if (auto ok = check(*s.warmup, "warm-up "); !ok) {
      return ok;
    }
  }
  for (const auto& phase : s.phases) {
    if (auto ok = check(phase, ""); !ok) {
      return ok;
    }
  }
  return {};
}

}  // namespace

util::Result<void> check_shardable(const scenario::Scenario& s, const engine::Slice& slice) {
  const std::string shard = to_string(slice);
  if (s.target.base_url.empty()) {
    return util::fail(fmt::format(
        "shard {}: no target (--target or target.base_url): every shard must load the same fleet, and each would "
        "start its own embedded simulator; start one with `llmd-bench sim` (or use the cluster's gateway) and pass its "
        "URL as --target to every shard",
        shard));
  }
  if (s.cache.kubernetes.restart_pods) {
    return util::fail(fmt::format("shard {}: {}: restart / --restart-pods would restart the pods once per shard; "
                                  "restart them once before the sharded run and drop it from the shards",
                                  shard, scenario::to_string(s.cache.where)));
  }
  if (s.cache_state.any()) {
    return util::fail(fmt::format("shard {}: {}: cache_state (reset, prime, verify) would act on the pods once per "
                                  "shard while the others load them; run it once before the sharded run (a "
                                  "scenario with only cache_state and no thresholds) and drop it from the shards",
                                  shard, scenario::to_string(s.cache_state.where)));
  }
  if (!s.events.empty()) {
    return util::fail(fmt::format("shard {}: {}: events (pod churn) would happen once per shard; churn pods from one "
                                  "unsharded run, or drop events from the shards",
                                  shard, scenario::to_string(s.events.front().where)));
  }
  if (auto ok = check_split(s, std::span(&slice, 1)); !ok) {
    return util::fail(fmt::format("shard {}: {}", shard, ok.error()));
  }
  return {};
}

util::Result<void> check_threadable(const scenario::Scenario& s, const engine::Slice& shard) {
  const std::size_t threads = s.engine.threads;
  if (threads <= 1) {
    return {};
  }
  std::vector<engine::Slice> slices;
  for (std::size_t t = 0; t < threads; ++t) {
    slices.push_back(shard.within(engine::Slice{t, threads}));
  }
  if (auto ok = check_split(s, slices); !ok) {
    return util::fail(fmt::format("{}: threads {}: {}", scenario::to_string(s.engine.where), threads, ok.error()));
  }
  return {};
}

}  // namespace llmd::run
