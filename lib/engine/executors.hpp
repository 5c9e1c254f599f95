#pragma once
// The schedulers of `llmd-bench run` phases, with k6's executor semantics. Each is a state machine
// driven by the engine's loop: tick(now) starts whatever is due and says when it next needs a tick;
// on_done() reports a finished request. No threads, no sleeping, no clock reads of their own, so
// they are unit-testable with made-up instants.
//
//   constant_vus   closed loop: `vus` users; each starts its next request as soon as the previous one
//                  ends, until `duration` has passed.
//   ramping_vus    closed loop: the user count follows `stages` linearly from `start_vus` (rounded
//                  down while ramping up, up while ramping down); users above the target finish
//                  their in-flight request and then stop. Lasts the sum of the stage durations.
//   iterations     closed loop: exactly `iterations` requests shared by min(vus, iterations) users,
//                  or fewer if `max_duration` passes first.
//   constant_arrival_rate  open loop: request i is due at phase start + i / rate, for i / rate < duration.
//   poisson        open loop: exponential gaps of mean 1 / rate (seeded), until `duration`.
//   trace          open loop: each record of the trace at its timestamp / speedup (trace_executor.hpp).
//   gamma          open loop: gamma gaps of shape `burstiness` and mean 1 / rate (seeded), until
//                  `duration` (vLLM's --burstiness; CV of the gaps 1 / sqrt(burstiness), 1 = poisson).
// Open loop: a due request is started at once if fewer than max_in_flight (0 = no limit) are in
// flight, else it is DROPPED (counted, never delayed). Its latency counts from the due time.
//
// Sliced (slice.hpp: a shard, an engine thread): a closed loop runs the users it owns (user k when
// k mod count == index) below the phase's target, and an iterations phase issues its share of the
// iterations; an open loop walks the whole arrival schedule (the same due times, the same seeded
// gaps) and starts only the arrivals it owns, with its share of max_in_flight; a trace, its
// records. The slices of a phase together run the unsliced phase.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "engine/outcome.hpp"
#include "engine/slice.hpp"
#include "engine/trace.hpp"
#include "scenario/scenario.hpp"
#include "util/result.hpp"

namespace llmd::engine {

// Most requests one tick() starts. A tick with more to start returns `now`: the engine's loop then
// lets libcurl connect and send what was started, and serves the sockets, before the next batch, so
// the first request of a burst is not held back by the set-up of all the others (its TTFT counts
// from its start). Measured against a simulator with a fixed 100 ms prefill, 1,000 users starting at
// once: TTFT p50 214-272 ms in batches of 4,096, 120-127 ms in batches of 64 (scripts/bench.sh part
// burst).
inline constexpr std::size_t k_max_starts_per_tick = 64;

// What an executor asks of the engine.
class Launcher {
 public:
  virtual ~Launcher() = default;
  // Starts one request. `vu`: the virtual user (closed loop) or session index (open loop);
  // `scheduled`: when it was due (closed loop: now). Never calls back into the executor
  // synchronously: even a request that cannot start is reported through on_done() later.
  virtual void launch(std::size_t vu, TimePoint scheduled) = 0;
  // An open-loop request due at `scheduled` was dropped (max_in_flight in flight).
  virtual void drop(TimePoint scheduled) = 0;
  // `count` arrivals due from `first_scheduled` on were dropped at once (the executor fell behind
  // with max_in_flight in flight). Default: drop() for each, all at `first_scheduled`.
  virtual void drop_many(std::uint64_t count, TimePoint first_scheduled) {
    for (std::uint64_t i = 0; i < count; ++i) {
      drop(first_scheduled);
    }
  }

 protected:
  Launcher() = default;
  Launcher(const Launcher&) = default;
  Launcher& operator=(const Launcher&) = default;
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Starts what is due at `now` and returns when it needs the next tick (TimePoint::max(): only
  // on_done() can make it start something again, or nothing will start any more).
  virtual TimePoint tick(TimePoint now, Launcher& launcher) = 0;
  // A request of `vu` ended (ok, failed or aborted) at `now`; closed loops start the VU's next one.
  virtual void on_done(std::size_t vu, TimePoint now, Launcher& launcher) = 0;
  // Before on_done(): the user `vu` starts nothing before `until` (backoff.hpp; closed loops only,
  // open-loop arrivals keep their schedule). tick() then starts it when it is due.
  virtual void pause(std::size_t /*vu*/, TimePoint /*until*/) {}
  // Start nothing more (Ctrl-C).
  virtual void stop() = 0;
  // True once no request will ever be started again (end reached, iterations issued, stopped).
  virtual bool done_starting(TimePoint now) const = 0;
  // When the phase stops starting requests by schedule (start + duration, or + max_duration).
  virtual TimePoint end_time() const = 0;
  // Closed loop: users with a request in flight; open loop: requests in flight.
  virtual std::size_t active() const = 0;
  virtual LoopKind loop() const = 0;

 protected:
  Executor() = default;
  Executor(const Executor&) = default;
  Executor& operator=(const Executor&) = default;
};

// Checks the fields the phase's executor needs, e.g. "phase \"load\" (s.yaml:12): constant-vus
// needs vus >= 1". The scenario loader checks too; this guards callers that build phases in code.
// Sliced: also that the slice gets a user for its iterations and a share of a max_in_flight, e.g.
// "... iterations with vus 2 cannot be split 4 ways: slice 2/4 would have iterations and no user".
util::Result<void> validate_phase(const scenario::Phase& phase, Slice slice = {});

// `phase` with start_time, duration, stage durations, max_duration and graceful_stop multiplied
// by `time_scale` (Scenario::time_scale; rates are not scaled) and speedup divided by it.
scenario::Phase scale_phase(const scenario::Phase& phase, double time_scale);

// How long the phase starts requests: duration, the sum of the stages (ramping_vus) or max_duration.
scenario::Duration scheduled_duration(const scenario::Phase& phase);
// Most requests the phase can have in flight at once: vus, the largest stage target, or
// max_in_flight (0 = unbounded open loop).
std::size_t peak_concurrency(const scenario::Phase& phase);

// ramping_vus: the target user count `elapsed` after the phase start, and when it next changes
// (nullopt: never again).
struct RampPoint {
  std::size_t target_vus = 0;
  std::optional<scenario::Duration> next_change;  // offset from the phase start
};
RampPoint ramp_at(std::size_t start_vus, std::span<const scenario::Stage> stages, scenario::Duration elapsed);

// An executor for a validated phase starting at `phase_start`; `seed` drives poisson and gamma gaps; `trace`
// holds the records of a trace phase (trace_executor.hpp; nullptr for a trace phase: no executor).
// `slice`: the share of the phase this executor runs (validate_phase(phase, slice) first).
std::unique_ptr<Executor> make_executor(const scenario::Phase& phase, TimePoint phase_start, std::uint64_t seed,
                                        const Trace* trace = nullptr, Slice slice = {});

}  // namespace llmd::engine
