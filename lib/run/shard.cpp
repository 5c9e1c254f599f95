#include "run/shard.hpp"

#include <vector>

#include <fmt/format.h>

#include "engine/executors.hpp"

namespace llmd::run {

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
  if (s.warmup) {
    if (auto ok = engine::validate_phase(*s.warmup, slice); !ok) {
      return util::fail(fmt::format("shard {}: warm-up {}", shard, ok.error()));
    }
  }
  for (const auto& phase : s.phases) {
    if (auto ok = engine::validate_phase(phase, slice); !ok) {
      return util::fail(fmt::format("shard {}: {}", shard, ok.error()));
    }
  }
  return {};
}

util::Result<void> check_threadable(const scenario::Scenario& s, const engine::Slice& shard) {
  const std::size_t threads = s.engine.threads;
  if (threads <= 1) {
    return {};
  }
  std::vector<const scenario::Phase*> phases;
  if (s.warmup) {
    phases.push_back(&*s.warmup);
  }
  for (const auto& phase : s.phases) {
    phases.push_back(&phase);
  }
  for (const auto* phase : phases) {
    for (std::size_t t = 0; t < threads; ++t) {
      if (auto ok = engine::validate_phase(*phase, shard.within(engine::Slice{t, threads})); !ok) {
        const bool warmup = s.warmup && phase == &*s.warmup;
        return util::fail(fmt::format("{}: threads {}: {}{}", scenario::to_string(s.engine.where), threads,
                                      warmup ? "warm-up " : "", ok.error()));
      }
    }
  }
  return {};
}

}  // namespace llmd::run
