#include "engine/executors.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "engine/phase_run.hpp"

#include <gtest/gtest.h>

namespace llmd::engine {
namespace {

using namespace std::chrono_literals;
using scenario::ExecutorKind;
using scenario::Phase;

const TimePoint k_t0{std::chrono::seconds(1000)};

struct Launch {
  std::size_t vu;
  TimePoint scheduled;
};

class FakeLauncher final : public Launcher {
 public:
  void launch(std::size_t vu, TimePoint scheduled) override { launches.push_back({vu, scheduled}); }
  void drop(TimePoint scheduled) override {
    drops.push_back(scheduled);
    ++dropped;
  }
  // Small batches are kept one by one (their due times are checked); huge ones only counted.
  void drop_many(std::uint64_t count, TimePoint first_scheduled) override {
    for (std::uint64_t i = 0; i < std::min<std::uint64_t>(count, 1000); ++i) {
      drops.push_back(first_scheduled);
    }
    dropped += count;
  }
  std::vector<Launch> launches;
  std::vector<TimePoint> drops;
  std::uint64_t dropped = 0;
};

// Ticks at `now` until the executor wants nothing before `now` (it starts at most a batch per tick).
TimePoint tick_until_idle(Executor& executor, TimePoint now, Launcher& launcher) {
  TimePoint next = executor.tick(now, launcher);
  for (int rounds = 0; next <= now && rounds < 100000; ++rounds) {
    next = executor.tick(now, launcher);
  }
  return next;
}

Phase closed_phase(ExecutorKind kind, std::size_t vus) {
  Phase phase;
  phase.name = "p";
  phase.executor = kind;
  phase.vus = vus;
  phase.duration = 10s;
  return phase;
}

TEST(ConstantVus, StartsEveryUserAndRestartsEachWhenItsRequestEnds) {
  auto executor = make_executor(closed_phase(ExecutorKind::constant_vus, 3), k_t0, 1);
  FakeLauncher launcher;
  EXPECT_EQ(executor->tick(k_t0 - 1s, launcher), k_t0);  // not started yet
  EXPECT_TRUE(launcher.launches.empty());
  EXPECT_EQ(executor->tick(k_t0, launcher), k_t0 + 10s);
  ASSERT_EQ(launcher.launches.size(), 3u);
  EXPECT_EQ(executor->active(), 3u);
  executor->tick(k_t0 + 1s, launcher);
  EXPECT_EQ(launcher.launches.size(), 3u);  // all busy: nothing new
  executor->on_done(1, k_t0 + 2s, launcher);
  ASSERT_EQ(launcher.launches.size(), 4u);
  EXPECT_EQ(launcher.launches.back().vu, 1u);
  EXPECT_EQ(launcher.launches.back().scheduled, k_t0 + 2s);
  executor->on_done(2, k_t0 + 10s, launcher);  // the phase is over: no restart
  EXPECT_EQ(launcher.launches.size(), 4u);
  EXPECT_TRUE(executor->done_starting(k_t0 + 10s));
  EXPECT_FALSE(executor->done_starting(k_t0 + 9s));
  EXPECT_EQ(executor->active(), 2u);
}

TEST(ConstantVus, APausedUserWaitsUntilItsBackoffEnds) {
  auto executor = make_executor(closed_phase(ExecutorKind::constant_vus, 2), k_t0, 1);
  FakeLauncher launcher;
  executor->tick(k_t0, launcher);
  ASSERT_EQ(launcher.launches.size(), 2u);
  executor->pause(0, k_t0 + 3s);  // its answer said Retry-After: 2 s later, at +1 s
  executor->on_done(0, k_t0 + 1s, launcher);
  EXPECT_EQ(launcher.launches.size(), 2u);  // not restarted at once
  EXPECT_EQ(executor->tick(k_t0 + 2s, launcher), k_t0 + 3s);  // wakes when the wait ends
  EXPECT_EQ(launcher.launches.size(), 2u);
  executor->tick(k_t0 + 3s, launcher);
  ASSERT_EQ(launcher.launches.size(), 3u);
  EXPECT_EQ(launcher.launches.back().vu, 0u);
  EXPECT_EQ(launcher.launches.back().scheduled, k_t0 + 3s);
}

// tick() scans the users only when something can have changed; between changes it starts nothing
// and wakes at the nearest of the phase end and the pauses that run out.
TEST(ConstantVus, TicksBetweenChangesStartNothingAndWakeForEachPause) {
  auto executor = make_executor(closed_phase(ExecutorKind::constant_vus, 3), k_t0, 1);
  FakeLauncher launcher;
  EXPECT_EQ(executor->tick(k_t0, launcher), k_t0 + 10s);
  ASSERT_EQ(launcher.launches.size(), 3u);
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(executor->tick(k_t0 + std::chrono::milliseconds(i), launcher), k_t0 + 10s);
  }
  EXPECT_EQ(launcher.launches.size(), 3u);
  executor->pause(2, k_t0 + 5s);  // think time, set while its request is still in flight
  executor->pause(1, k_t0 + 4s);
  executor->on_done(2, k_t0 + 1s, launcher);
  executor->on_done(1, k_t0 + 1s, launcher);
  EXPECT_EQ(launcher.launches.size(), 3u);
  EXPECT_EQ(executor->tick(k_t0 + 2s, launcher), k_t0 + 4s);
  EXPECT_EQ(executor->tick(k_t0 + 4s, launcher), k_t0 + 5s);  // user 1 starts; user 2 still waits
  ASSERT_EQ(launcher.launches.size(), 4u);
  EXPECT_EQ(launcher.launches.back().vu, 1u);
  EXPECT_EQ(executor->tick(k_t0 + 5s, launcher), k_t0 + 10s);
  ASSERT_EQ(launcher.launches.size(), 5u);
  EXPECT_EQ(launcher.launches.back().vu, 2u);
  EXPECT_EQ(executor->active(), 3u);
}

// A burst is started in batches: the engine's loop sends each batch before the next one starts.
TEST(ConstantVus, ABurstStartsInBatchesAndComesBackAtOnce) {
  const std::size_t users = 2 * k_max_starts_per_tick + 5;
  auto executor = make_executor(closed_phase(ExecutorKind::constant_vus, users), k_t0, 1);
  FakeLauncher launcher;
  EXPECT_EQ(executor->tick(k_t0, launcher), k_t0);  // more to start: tick again now
  EXPECT_EQ(launcher.launches.size(), k_max_starts_per_tick);
  EXPECT_EQ(executor->tick(k_t0, launcher), k_t0);
  EXPECT_EQ(launcher.launches.size(), 2 * k_max_starts_per_tick);
  EXPECT_EQ(executor->tick(k_t0, launcher), k_t0 + 10s);
  ASSERT_EQ(launcher.launches.size(), users);
  for (std::size_t i = 0; i < users; ++i) {
    EXPECT_EQ(launcher.launches[i].vu, i);  // each user once, in order
  }
}

TEST(ConstantVus, StopEndsRestarts) {
  auto executor = make_executor(closed_phase(ExecutorKind::constant_vus, 2), k_t0, 1);
  FakeLauncher launcher;
  executor->tick(k_t0, launcher);
  executor->stop();
  executor->on_done(0, k_t0 + 1s, launcher);
  EXPECT_EQ(launcher.launches.size(), 2u);
  EXPECT_TRUE(executor->done_starting(k_t0 + 1s));
}

TEST(Iterations, IssuesExactlyTheIterationCount) {
  auto phase = closed_phase(ExecutorKind::iterations, 4);
  phase.iterations = 10;
  phase.max_duration = 60s;
  auto executor = make_executor(phase, k_t0, 1);
  FakeLauncher launcher;
  executor->tick(k_t0, launcher);
  EXPECT_EQ(launcher.launches.size(), 4u);
  for (std::size_t done = 0; done < 20 && !launcher.launches.empty(); ++done) {
    executor->on_done(launcher.launches[done % launcher.launches.size()].vu, k_t0 + 1s, launcher);
  }
  EXPECT_EQ(launcher.launches.size(), 10u);
  EXPECT_TRUE(executor->done_starting(k_t0 + 1s));
}

TEST(Iterations, UsesNoMoreUsersThanIterations) {
  auto phase = closed_phase(ExecutorKind::iterations, 8);
  phase.iterations = 3;
  auto executor = make_executor(phase, k_t0, 1);
  FakeLauncher launcher;
  executor->tick(k_t0, launcher);
  EXPECT_EQ(launcher.launches.size(), 3u);
}

TEST(RampAt, FollowsStagesLinearly) {
  const std::vector<scenario::Stage> stages = {{10s, 10}, {10s, 10}, {5s, 0}};
  EXPECT_EQ(ramp_at(0, stages, 0s).target_vus, 0u);
  EXPECT_EQ(ramp_at(0, stages, 0s).next_change, 1s);
  EXPECT_EQ(ramp_at(0, stages, 999ms).target_vus, 0u);
  EXPECT_EQ(ramp_at(0, stages, 1s).target_vus, 1u);
  EXPECT_EQ(ramp_at(0, stages, 5500ms).target_vus, 5u);
  EXPECT_EQ(ramp_at(0, stages, 5500ms).next_change, 6s);
  EXPECT_EQ(ramp_at(0, stages, 10s).target_vus, 10u);
  EXPECT_EQ(ramp_at(0, stages, 10s).next_change, 20s);  // flat stage: next look at its end
  EXPECT_EQ(ramp_at(0, stages, 20s).target_vus, 10u);   // ramp down rounds up
  EXPECT_EQ(ramp_at(0, stages, 20s).next_change, 20500ms);
  EXPECT_EQ(ramp_at(0, stages, 20400ms).target_vus, 10u);
  EXPECT_EQ(ramp_at(0, stages, 20500ms).target_vus, 9u);
  EXPECT_EQ(ramp_at(0, stages, 24999ms).target_vus, 1u);
  const RampPoint end = ramp_at(0, stages, 25s);
  EXPECT_EQ(end.target_vus, 0u);
  EXPECT_FALSE(end.next_change.has_value());
}

TEST(RampAt, StartsFromStartVusAndJumpsOnZeroLengthStages) {
  const std::vector<scenario::Stage> stages = {{0s, 8}, {4s, 4}};
  EXPECT_EQ(ramp_at(2, stages, 0s).target_vus, 8u);
  EXPECT_EQ(ramp_at(2, stages, 2s).target_vus, 6u);
  const std::vector<scenario::Stage> from_start = {{4s, 6}};
  EXPECT_EQ(ramp_at(2, from_start, 0s).target_vus, 2u);
  EXPECT_EQ(ramp_at(2, from_start, 2s).target_vus, 4u);
}

TEST(RampingVus, UsersAboveTheTargetFinishThenStop) {
  Phase phase = closed_phase(ExecutorKind::ramping_vus, 0);
  phase.start_vus = 2;
  phase.stages = {{2s, 2}, {2s, 0}};
  auto executor = make_executor(phase, k_t0, 1);
  FakeLauncher launcher;
  EXPECT_EQ(executor->tick(k_t0, launcher), k_t0 + 2s);
  EXPECT_EQ(launcher.launches.size(), 2u);
  executor->tick(k_t0 + 3s, launcher);  // target 1: nobody is cut, nothing starts
  EXPECT_EQ(executor->active(), 2u);
  executor->on_done(1, k_t0 + 3s, launcher);  // VU 1 is above the target: stops
  EXPECT_EQ(launcher.launches.size(), 2u);
  EXPECT_EQ(executor->active(), 1u);
  executor->on_done(0, k_t0 + 3s, launcher);  // VU 0 is still wanted
  EXPECT_EQ(launcher.launches.size(), 3u);
  EXPECT_TRUE(executor->done_starting(k_t0 + 4s));
}

TEST(RampingVus, RampUpStartsUsersAtTheirTime) {
  Phase phase = closed_phase(ExecutorKind::ramping_vus, 0);
  phase.stages = {{4s, 4}};
  auto executor = make_executor(phase, k_t0, 1);
  FakeLauncher launcher;
  TimePoint next = executor->tick(k_t0, launcher);
  EXPECT_EQ(next, k_t0 + 1s);
  EXPECT_TRUE(launcher.launches.empty());
  next = executor->tick(next, launcher);
  EXPECT_EQ(launcher.launches.size(), 1u);
  EXPECT_EQ(next, k_t0 + 2s);
  executor->tick(k_t0 + 3500ms, launcher);
  EXPECT_EQ(launcher.launches.size(), 3u);
}

Phase open_phase(ExecutorKind kind, double rate, std::size_t max_in_flight) {
  Phase phase;
  phase.name = "open";
  phase.executor = kind;
  phase.rate_per_s = rate;
  phase.duration = 1s;
  phase.max_in_flight = max_in_flight;
  return phase;
}

TEST(ConstantArrivalRate, SchedulesRequestIAtIOverRate) {
  auto executor = make_executor(open_phase(ExecutorKind::constant_arrival_rate, 4, 0), k_t0, 1);
  FakeLauncher launcher;
  EXPECT_EQ(executor->tick(k_t0, launcher), k_t0 + 250ms);
  ASSERT_EQ(launcher.launches.size(), 1u);
  EXPECT_EQ(launcher.launches[0].scheduled, k_t0);
  // A late tick starts every overdue request at once, each keeping its own due time.
  EXPECT_EQ(executor->tick(k_t0 + 800ms, launcher), TimePoint::max());  // the next would be due at the end
  ASSERT_EQ(launcher.launches.size(), 4u);
  EXPECT_EQ(launcher.launches[3].scheduled, k_t0 + 750ms);
  EXPECT_EQ(executor->tick(k_t0 + 1s, launcher), TimePoint::max());
  EXPECT_EQ(launcher.launches.size(), 4u);  // 1 s at 4/s: exactly 4 requests
  EXPECT_TRUE(executor->done_starting(k_t0 + 1s));
  EXPECT_EQ(executor->loop(), LoopKind::open);
}

TEST(ConstantArrivalRate, ArrivalsDueBeforeTheEndStartEvenWhenTheLoopRunsLate) {
  auto executor = make_executor(open_phase(ExecutorKind::constant_arrival_rate, 4, 0), k_t0, 1);
  FakeLauncher launcher;
  executor->tick(k_t0, launcher);
  // The loop was busy past the end of the 1 s phase: 3 arrivals are still owed, not lost.
  EXPECT_FALSE(executor->done_starting(k_t0 + 1200ms));
  executor->tick(k_t0 + 1200ms, launcher);
  EXPECT_EQ(launcher.launches.size() + launcher.drops.size(), 4u);
  EXPECT_TRUE(executor->done_starting(k_t0 + 1200ms));
}

TEST(ConstantArrivalRate, DropsWhatIsDueWhileMaxInFlightAreInFlight) {
  auto executor = make_executor(open_phase(ExecutorKind::constant_arrival_rate, 10, 2), k_t0, 1);
  FakeLauncher launcher;
  executor->tick(k_t0 + 350ms, launcher);  // 4 due: 2 start, 2 dropped
  EXPECT_EQ(launcher.launches.size(), 2u);
  ASSERT_EQ(launcher.drops.size(), 2u);
  EXPECT_EQ(launcher.drops[0], k_t0 + 200ms);
  executor->on_done(0, k_t0 + 360ms, launcher);
  EXPECT_EQ(launcher.launches.size(), 2u);  // open loop: a completion starts nothing
  executor->tick(k_t0 + 400ms, launcher);
  EXPECT_EQ(launcher.launches.size(), 3u);
  EXPECT_EQ(launcher.launches[2].scheduled, k_t0 + 400ms);
  EXPECT_EQ(launcher.launches[2].vu, 0u);  // session = request index % max_in_flight = 4 % 2
}

TEST(Poisson, MeanRateMatchesAndTheSeedFixesTheSchedule) {
  auto phase = open_phase(ExecutorKind::poisson, 1000, 0);
  phase.duration = 10s;
  FakeLauncher first;
  FakeLauncher second;
  FakeLauncher other_seed;
  tick_until_idle(*make_executor(phase, k_t0, 7), k_t0 + 10s, first);
  tick_until_idle(*make_executor(phase, k_t0, 7), k_t0 + 10s, second);
  tick_until_idle(*make_executor(phase, k_t0, 8), k_t0 + 10s, other_seed);
  EXPECT_NEAR(static_cast<double>(first.launches.size()), 10000, 400);  // Poisson sd = 100
  ASSERT_EQ(first.launches.size(), second.launches.size());
  EXPECT_EQ(first.launches[100].scheduled, second.launches[100].scheduled);
  EXPECT_NE(first.launches[100].scheduled, other_seed.launches[100].scheduled);
  EXPECT_GT(first.launches[0].scheduled, k_t0);  // the first arrival is one gap in
}

// Mean and coefficient of variation of the gaps between the scheduled arrivals (the first gap from
// the phase start): statistics of the schedule itself, not of wall-clock timing.
struct GapStats {
  std::size_t arrivals = 0;
  double mean_s = 0;
  double cv = 0;
};

GapStats gamma_schedule(double rate, double burstiness, std::uint64_t seed, FakeLauncher& launcher) {
  auto phase = open_phase(ExecutorKind::gamma, rate, 0);
  phase.burstiness = burstiness;
  phase.duration = 20s;
  tick_until_idle(*make_executor(phase, k_t0, seed), k_t0 + 20s, launcher);
  std::vector<double> gaps;
  TimePoint previous = k_t0;
  for (const Launch& launch : launcher.launches) {
    gaps.push_back(std::chrono::duration<double>(launch.scheduled - previous).count());
    previous = launch.scheduled;
  }
  double sum = 0;
  for (double gap : gaps) {
    sum += gap;
  }
  const double mean = sum / static_cast<double>(gaps.size());
  double squares = 0;
  for (double gap : gaps) {
    squares += (gap - mean) * (gap - mean);
  }
  const double sd = std::sqrt(squares / static_cast<double>(gaps.size() - 1));
  return {gaps.size(), mean, sd / mean};
}

TEST(Gamma, GapsHaveMeanOneOverRateAndCvOneOverSqrtBurstiness) {
  // 1000/s for 20 s: ~20,000 gaps. Standard errors: the mean within ~1.4% even at CV 2, the CV
  // within ~2% (gamma kurtosis 3 + 6/k), so the bounds below leave 4-5 of them.
  for (const double burstiness : {0.25, 1.0, 4.0}) {
    FakeLauncher launcher;
    const GapStats stats = gamma_schedule(1000, burstiness, 7, launcher);
    SCOPED_TRACE(burstiness);
    EXPECT_NEAR(static_cast<double>(stats.arrivals), 20000, 20000 * 0.06);
    EXPECT_NEAR(stats.mean_s, 0.001, 0.001 * 0.06);
    EXPECT_NEAR(stats.cv, 1 / std::sqrt(burstiness), 0.1 / std::sqrt(burstiness));
  }
}

TEST(Gamma, TheSeedFixesTheScheduleAndLowBurstinessIsBurstier) {
  FakeLauncher first;
  FakeLauncher second;
  FakeLauncher other_seed;
  gamma_schedule(1000, 0.5, 7, first);
  gamma_schedule(1000, 0.5, 7, second);
  gamma_schedule(1000, 0.5, 8, other_seed);
  ASSERT_EQ(first.launches.size(), second.launches.size());
  for (std::size_t i = 0; i < first.launches.size(); ++i) {
    ASSERT_EQ(first.launches[i].scheduled, second.launches[i].scheduled) << i;
  }
  EXPECT_NE(first.launches[100].scheduled, other_seed.launches[100].scheduled);
  FakeLauncher bursty;
  FakeLauncher smooth;
  EXPECT_GT(gamma_schedule(1000, 0.1, 7, bursty).cv, 5 * gamma_schedule(1000, 10, 7, smooth).cv);  // ~3.2 vs ~0.32
}

TEST(Gamma, ArrivalsDueWhileFullAreDroppedAndCounted) {
  // 100,000/s with 10 in flight, ticked 1 s late: ~100,000 arrivals were due; 10 start, the rest are
  // dropped (drawn gap by gap up to the tick), and the schedule goes on after it.
  auto phase = open_phase(ExecutorKind::gamma, 100'000, 10);
  phase.burstiness = 2;
  phase.duration = 2s;
  auto executor = make_executor(phase, k_t0, 3);
  FakeLauncher launcher;
  const TimePoint next = executor->tick(k_t0 + 1s, launcher);
  EXPECT_GT(next, k_t0 + 1s);
  EXPECT_EQ(launcher.launches.size(), 10u);
  EXPECT_NEAR(static_cast<double>(launcher.dropped), 100'000, 3'000);
  EXPECT_FALSE(executor->done_starting(k_t0 + 1s));
  phase.burstiness = 0;
  EXPECT_EQ(validate_phase(phase).error(), "phase \"open\": gamma needs a burstiness > 0, got 0");
}

TEST(OpenLoop, AFarBehindLoopStartsABatchPerTickAndServesItsSocketsBetween) {
  // 1,000,000/s without a cap, ticked 1 s late: 1,000,001 arrivals are due. The tick returns `now`
  // after a batch instead of starting them all before the loop sees a socket again.
  auto executor = make_executor(open_phase(ExecutorKind::constant_arrival_rate, 1'000'000, 0), k_t0, 1);
  FakeLauncher launcher;
  EXPECT_EQ(executor->tick(k_t0 + 1s, launcher), k_t0 + 1s);
  EXPECT_EQ(launcher.launches.size(), k_max_starts_per_tick);
  EXPECT_EQ(launcher.launches.back().scheduled,
            k_t0 + std::chrono::microseconds(k_max_starts_per_tick - 1));  // each keeps its own due time
}

TEST(OpenLoop, ArrivalsDueFasterThanTheyCanStartAreDroppedInBulkNotSpun) {
  // Poisson at 1e15/s: the gap rounds to 0 ns; the tick used to loop forever. With max_in_flight
  // in flight, what is due is dropped in one step and the tick ends.
  auto poisson = open_phase(ExecutorKind::poisson, 1e15, 10);
  poisson.duration = 2s;
  auto executor = make_executor(poisson, k_t0, 3);
  FakeLauncher launcher;
  const TimePoint next = executor->tick(k_t0 + 1s, launcher);
  EXPECT_GT(next, k_t0 + 1s);
  EXPECT_EQ(launcher.launches.size(), 10u);
  EXPECT_NEAR(static_cast<double>(launcher.dropped), 1e15, 1e9);  // Poisson sd ~ 3e7
  tick_until_idle(*executor, k_t0 + 3s, launcher);
  EXPECT_TRUE(executor->done_starting(k_t0 + 3s));

  // Constant rate 1e9/s for 1 s, 5 in flight, ticked at the end: arrivals 0..1e9-1 were due before
  // it; 5 start, the rest are dropped, counted exactly.
  auto constant = make_executor(open_phase(ExecutorKind::constant_arrival_rate, 1e9, 5), k_t0, 1);
  FakeLauncher counted;
  EXPECT_GT(constant->tick(k_t0 + 1s, counted), k_t0 + 1s);
  EXPECT_EQ(counted.launches.size(), 5u);
  EXPECT_EQ(counted.dropped, 1'000'000'000u - 5u);
}

TEST(ValidatePhase, NamesThePhaseAndWhatIsMissing) {
  Phase phase = closed_phase(ExecutorKind::constant_vus, 0);
  phase.name = "load";
  EXPECT_EQ(validate_phase(phase).error(), "phase \"load\": constant-vus needs vus >= 1");
  phase.where = {"s.yaml", 12, 3};
  EXPECT_EQ(validate_phase(phase).error(), "phase \"load\" (s.yaml:12): constant-vus needs vus >= 1");
  phase = open_phase(ExecutorKind::poisson, 0, 0);
  EXPECT_EQ(validate_phase(phase).error(), "phase \"open\": poisson needs a rate > 0 requests/s, got 0");
  phase = closed_phase(ExecutorKind::ramping_vus, 0);
  EXPECT_EQ(validate_phase(phase).error(), "phase \"p\": ramping-vus needs at least one stage");
  phase = closed_phase(ExecutorKind::iterations, 2);
  EXPECT_EQ(validate_phase(phase).error(), "phase \"p\": iterations needs iterations >= 1 and vus >= 1");
  EXPECT_TRUE(validate_phase(closed_phase(ExecutorKind::constant_vus, 1)));
}

TEST(ScalePhase, ScalesEveryDurationButNotRates) {
  Phase phase = open_phase(ExecutorKind::constant_arrival_rate, 50, 4);
  phase.start_time = 10s;
  phase.graceful_stop = 30s;
  phase.stages = {{20s, 3}};
  const Phase scaled = scale_phase(phase, 0.01);
  EXPECT_EQ(scaled.start_time, 100ms);
  EXPECT_EQ(scaled.duration, 10ms);
  EXPECT_EQ(scaled.graceful_stop, 300ms);
  EXPECT_EQ(scaled.stages[0].duration, 200ms);
  EXPECT_EQ(scaled.max_duration, 6s);
  EXPECT_EQ(scaled.rate_per_s, 50);
}

TEST(PeakConcurrency, PerExecutor) {
  EXPECT_EQ(peak_concurrency(closed_phase(ExecutorKind::constant_vus, 7)), 7u);
  Phase ramp = closed_phase(ExecutorKind::ramping_vus, 0);
  ramp.start_vus = 3;
  ramp.stages = {{1s, 9}, {1s, 2}};
  EXPECT_EQ(peak_concurrency(ramp), 9u);
  EXPECT_EQ(scheduled_duration(ramp), 2s);
  EXPECT_EQ(peak_concurrency(open_phase(ExecutorKind::poisson, 5, 0)), 0u);  // unbounded
}

// time_scale: 1e300 overflowed the scaled duration to -9.2e18 ns: the phase "ended" before it
// started, no request completed, and its wall duration came out as minus the machine's uptime
// ("completed in -2009454018us"). A phase's wall duration is never negative.
TEST(PhaseRun, AnEndBeforeTheStartGivesAZeroWallDurationNotANegativeOne) {
  Phase phase = closed_phase(ExecutorKind::constant_vus, 1);
  phase.duration = scenario::Duration(std::numeric_limits<scenario::Duration::rep>::min() / 2);  // what the overflow left
  PhaseRun run;
  run.phase = phase;
  run.start = k_t0;
  run.executor = make_executor(phase, k_t0, 1);
  run.state = PhaseState::running;
  run.in_flight.reset(k_t0);
  run.finish(k_t0 + 5ms, TimePoint{});
  EXPECT_EQ(run.result.wall_duration, scenario::Duration::zero());
  EXPECT_EQ(run.result.started_at, k_t0.time_since_epoch());
}

}  // namespace
}  // namespace llmd::engine
