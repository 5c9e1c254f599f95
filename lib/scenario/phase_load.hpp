#pragma once
// What a phase asks of the client, from its settings alone: how many requests it can have in
// flight and how long it schedules them. The loader bounds both (limits.hpp); the engine sizes its
// connection pool with peak_requests. Header-only: the engine uses the scenario's headers only.
#include <algorithm>
#include <cstddef>
#include <optional>

#include "scenario/scenario.hpp"

namespace llmd::scenario {

// Most requests the phase can have in flight at once: vus (constant-vus), the largest of start_vus
// and the stage targets (ramping-vus), min(vus, iterations) (iterations), max_in_flight (open loop;
// 0 = unbounded, only in phases built in code).
inline std::size_t peak_requests(const Phase& phase) {
  switch (phase.executor) {
    case ExecutorKind::ramping_vus: {
      std::size_t peak = phase.start_vus;
      for (const Stage& stage : phase.stages) {
        peak = std::max(peak, stage.target_vus);
      }
      return peak;
    }
    case ExecutorKind::iterations:
      return std::min<std::size_t>(phase.vus, phase.iterations);
    case ExecutorKind::constant_vus:
      return phase.vus;
    case ExecutorKind::constant_arrival_rate:
    case ExecutorKind::poisson:
    case ExecutorKind::trace:
    case ExecutorKind::gamma:
      return phase.max_in_flight;
  }
  return 0;
}

// How long the phase schedules requests: duration, or the sum of the stages (ramping-vus); nullopt
// for iterations and trace, whose length only the run can tell (they give up after max_duration).
inline std::optional<Duration> nominal_length(const Phase& phase) {
  switch (phase.executor) {
    case ExecutorKind::constant_vus:
    case ExecutorKind::constant_arrival_rate:
    case ExecutorKind::poisson:
    case ExecutorKind::gamma: return phase.duration;
    case ExecutorKind::ramping_vus: {
      Duration total{};
      for (const Stage& stage : phase.stages) {
        total += stage.duration;
      }
      return total;
    }
    case ExecutorKind::iterations:
    case ExecutorKind::trace: return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace llmd::scenario
