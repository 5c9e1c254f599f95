// Slices (engine/slice.hpp): shards and engine threads split every phase so that their shares sum
// to the whole and their union is the unsliced schedule.
#include "engine/slice.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include "engine/executors.hpp"
#include "engine/phase_run.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace llmd::engine {
namespace {

using namespace std::chrono_literals;
using scenario::ExecutorKind;
using scenario::Phase;
using ::testing::HasSubstr;

const TimePoint k_t0{std::chrono::seconds(1000)};

struct Launch {
  std::size_t vu;
  TimePoint scheduled;
  bool operator<(const Launch& other) const {
    return scheduled != other.scheduled ? scheduled < other.scheduled : vu < other.vu;
  }
  bool operator==(const Launch& other) const { return vu == other.vu && scheduled == other.scheduled; }
};

class Recorder final : public Launcher {
 public:
  void launch(std::size_t vu, TimePoint scheduled) override { launches.push_back({vu, scheduled}); }
  void drop(TimePoint /*scheduled*/) override { ++dropped; }
  void drop_many(std::uint64_t count, TimePoint /*first*/) override { dropped += count; }
  std::vector<Launch> launches;
  std::uint64_t dropped = 0;
};

TEST(Slice, ParsesIndexSlashCountAndNamesWhatIsWrong) {
  auto two_of_four = parse_slice("2/4");
  ASSERT_TRUE(two_of_four) << two_of_four.error();
  EXPECT_EQ(*two_of_four, (Slice{2, 4}));
  EXPECT_EQ(to_string(*two_of_four), "2/4");
  EXPECT_THAT(parse_slice("4/4").error(), HasSubstr("INDEX must be below COUNT"));
  EXPECT_THAT(parse_slice("1/0").error(), HasSubstr("COUNT must be 1 to 4096"));
  EXPECT_THAT(parse_slice("0/5000").error(), HasSubstr("COUNT must be 1 to 4096"));
  EXPECT_THAT(parse_slice("3").error(), HasSubstr("no '/'"));
  EXPECT_THAT(parse_slice("a/4").error(), HasSubstr("whole numbers"));
  EXPECT_THAT(parse_slice("-1/4").error(), HasSubstr("whole numbers"));
  EXPECT_THAT(parse_slice("1/4 ").error(), HasSubstr("whole numbers"));
}

TEST(Slice, SharesOfEveryCountSumToTheCount) {
  for (std::size_t count : {1u, 2u, 3u, 4u, 7u}) {
    for (std::uint64_t n = 0; n < 50; ++n) {
      std::uint64_t sum = 0;
      for (std::size_t i = 0; i < count; ++i) {
        const Slice slice{i, count};
        std::uint64_t owned = 0;
        for (std::uint64_t k = 0; k < n; ++k) {
          owned += slice.owns(k) ? 1 : 0;
        }
        EXPECT_EQ(slice.share_of(n), owned) << i << "/" << count << " of " << n;
        sum += slice.share_of(n);
      }
      EXPECT_EQ(sum, n);
    }
  }
}

TEST(Slice, AThreadOfAShardOwnsExactlyItsShareOfTheShardsItems) {
  const Slice shard{1, 3};
  std::map<std::uint64_t, int> owners;
  for (std::size_t t = 0; t < 2; ++t) {
    const Slice thread = shard.within({t, 2});
    EXPECT_EQ(thread.count, 6u);
    for (std::uint64_t k = 0; k < 60; ++k) {
      if (thread.owns(k)) {
        EXPECT_TRUE(shard.owns(k)) << k;
        ++owners[k];
      }
    }
  }
  for (std::uint64_t k = 0; k < 60; ++k) {
    EXPECT_EQ(owners.count(k) ? owners[k] : 0, shard.owns(k) ? 1 : 0) << k;
  }
}

// Runs `phase` as one executor and as `count` slices, ticking all at the same instants and ending
// every request `hold` after it started; returns the whole's launches and the slices' union.
std::pair<std::vector<Launch>, std::vector<Launch>> whole_and_union(const Phase& phase, std::size_t count,
                                                                    std::chrono::milliseconds hold) {
  auto run = [&](Slice slice) {
    auto executor = make_executor(phase, k_t0, 42, nullptr, slice);
    Recorder recorder;
    std::multimap<TimePoint, std::size_t> ends;  // request end -> vu
    for (TimePoint now = k_t0; now <= k_t0 + 12s; now += 10ms) {
      const std::size_t before = recorder.launches.size();  // on_done restarts a closed-loop user
      while (!ends.empty() && ends.begin()->first <= now) {
        const auto vu = ends.begin()->second;
        ends.erase(ends.begin());
        executor->on_done(vu, now, recorder);
      }
      executor->tick(now, recorder);
      for (std::size_t i = before; i < recorder.launches.size(); ++i) {
        ends.emplace(now + hold, recorder.launches[i].vu);
      }
    }
    return recorder.launches;
  };
  auto whole = run({});
  std::vector<Launch> joined;
  for (std::size_t i = 0; i < count; ++i) {
    auto part = run({i, count});
    joined.insert(joined.end(), part.begin(), part.end());
  }
  std::sort(whole.begin(), whole.end());
  std::sort(joined.begin(), joined.end());
  return {whole, joined};
}

TEST(SlicedExecutors, RampingUsersSplitSoThatTheSlicesTogetherRunTheWholeRamp) {
  Phase phase;
  phase.name = "ramp";
  phase.executor = ExecutorKind::ramping_vus;
  phase.start_vus = 0;
  phase.stages = {{2s, 10}, {3s, 50}, {2s, 7}};
  auto [whole, joined] = whole_and_union(phase, 4, 250ms);
  ASSERT_GT(whole.size(), 100u);
  EXPECT_EQ(joined, whole);
}

TEST(SlicedExecutors, IterationsAreSharedExactly) {
  Phase phase;
  phase.name = "it";
  phase.executor = ExecutorKind::iterations;
  phase.vus = 8;
  phase.iterations = 103;
  phase.max_duration = 60s;
  auto [whole, joined] = whole_and_union(phase, 3, 100ms);
  EXPECT_EQ(whole.size(), 103u);
  EXPECT_EQ(joined.size(), 103u);
  EXPECT_TRUE(validate_phase(phase, {2, 3}));
}

TEST(SlicedExecutors, OpenLoopArrivalsKeepTheirDueTimesAndSessions) {
  for (auto kind : {ExecutorKind::constant_arrival_rate, ExecutorKind::poisson, ExecutorKind::gamma}) {
    Phase phase;
    phase.name = "open";
    phase.executor = kind;
    phase.rate_per_s = 200;
    phase.burstiness = 0.5;
    phase.max_in_flight = 64;  // never reached: requests last 50 ms, ~10 in flight
    phase.duration = 10s;
    auto [whole, joined] = whole_and_union(phase, 4, 50ms);
    ASSERT_GT(whole.size(), 1000u) << to_string(kind);
    EXPECT_EQ(joined, whole) << to_string(kind);
  }
}

TEST(SlicedExecutors, ASliceDropsOnlyItsOwnArrivalsWithItsShareOfMaxInFlight) {
  Phase phase;
  phase.name = "open";
  phase.executor = ExecutorKind::constant_arrival_rate;
  phase.rate_per_s = 1000;
  phase.max_in_flight = 8;
  phase.duration = 1s;
  // Nothing ever ends: each slice starts its share of max_in_flight, then drops its own arrivals.
  std::uint64_t started = 0;
  std::uint64_t dropped = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    auto executor = make_executor(phase, k_t0, 1, nullptr, {i, 4});
    Recorder recorder;
    for (TimePoint now = k_t0; now < k_t0 + 2s; now += 1ms) {
      executor->tick(now, recorder);
    }
    EXPECT_EQ(recorder.launches.size(), 2u) << i;
    started += recorder.launches.size();
    dropped += recorder.dropped;
  }
  EXPECT_EQ(started, 8u);
  EXPECT_EQ(started + dropped, 1000u);
}

TEST(SlicedExecutors, APhaseThatCannotBeSplitThatManyWaysIsRefusedWithTheFix) {
  Phase iterations;
  iterations.name = "few-users";
  iterations.executor = ExecutorKind::iterations;
  iterations.vus = 2;
  iterations.iterations = 20;
  iterations.max_duration = 60s;
  auto refused = validate_phase(iterations, {2, 4});
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error(), HasSubstr("with vus 2 cannot be split 4 ways: slice 2/4 would have iterations and no user"));
  EXPECT_THAT(refused.error(), HasSubstr("use vus >= 4"));
  EXPECT_TRUE(validate_phase(iterations, {1, 4}));

  Phase open;
  open.name = "narrow";
  open.executor = ExecutorKind::constant_arrival_rate;
  open.rate_per_s = 10;
  open.duration = 1s;
  open.max_in_flight = 3;
  EXPECT_THAT(validate_phase(open, {3, 4}).error(), HasSubstr("max_in_flight 3 cannot be split 4 ways"));
  open.max_in_flight = 0;  // no limit: any split
  EXPECT_TRUE(validate_phase(open, {3, 4}));
}

}  // namespace
}  // namespace llmd::engine
