// run::merge_shards: exact histogram merges, wall time over the union of the shards' spans,
// per-second buckets on absolute time, and the refusals that name the files.
#include "run/merge.hpp"

#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace llmd::run {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const std::string k_hash_a(64, 'a');
const std::string k_hash_b(64, 'b');
const auto k_start = std::chrono::system_clock::time_point(1'764'700'000'000ms);

engine::PhaseResult phase(const std::string& name, std::chrono::nanoseconds started_at, std::chrono::nanoseconds wall) {
  engine::PhaseResult p;
  p.name = name;
  p.executor = scenario::ExecutorKind::constant_vus;
  p.started_at = started_at;
  p.wall_duration = wall;
  return p;
}

ShardResult shard(std::size_t index, std::size_t count, std::chrono::milliseconds start_offset = 0ms) {
  ShardResult s;
  s.file = "shard-" + std::to_string(index) + ".json";
  s.index = index;
  s.count = count;
  s.scenario_sha256 = k_hash_a;
  s.run.started_at = k_start + start_offset;
  s.run.ended_at = s.run.started_at + 10s;
  s.run.phases = {phase("load", 0s, 10s)};
  s.run.total = phase("total", 0s, 10s);
  s.run.total.executor.reset();
  return s;
}

// Records `values` as ok requests of the shard's phase and total.
void record(ShardResult& s, const std::vector<std::uint64_t>& values) {
  for (auto* p : {&s.run.phases[0], &s.run.total}) {
    for (const auto value : values) {
      p->histograms.ttft_ns.record(value);
      p->histograms.http_req_duration_ns.record(value * 2);
    }
    p->started += values.size();
    p->completed += values.size();
    p->ok += values.size();
    p->output_tokens_total += 10 * values.size();
  }
}

TEST(MergeShards, HistogramsEqualOneHistogramFedEveryValue) {
  std::mt19937_64 random(42);
  std::lognormal_distribution<double> latency(17.0, 1.0);  // ~24 ms median, long tail (ns)
  std::vector<ShardResult> shards;
  auto all = engine::make_engine_histogram();
  for (std::size_t i = 0; i < 4; ++i) {
    shards.push_back(shard(i, 4));
    std::vector<std::uint64_t> values(1000 + 100 * i);
    for (auto& value : values) {
      value = static_cast<std::uint64_t>(latency(random));
      all.record(value);
    }
    record(shards.back(), values);
  }
  auto merged = merge_shards(shards);
  ASSERT_TRUE(merged) << merged.error();
  const auto& load = merged->run.phases.at(0);
  EXPECT_EQ(load.histograms.ttft_ns, all);  // bucket for bucket, count, min, max, sum
  EXPECT_EQ(load.histograms.ttft_ns.percentile(95), all.percentile(95));
  EXPECT_EQ(load.histograms.ttft_ns.percentile(99.9), all.percentile(99.9));
  EXPECT_EQ(load.ok, 4600u);
  EXPECT_EQ(merged->run.total.ok, 4600u);
  EXPECT_EQ(merged->run.total.histograms.ttft_ns, all);
  EXPECT_TRUE(merged->missing.empty());
  EXPECT_TRUE(merged->diagnostics.empty());
}

// Rates are over the union of the shards' wall time: two shards of 10 s that overlap by 5 s make
// 15 s, two that do not overlap make 20 s, not the sum of their rates.
TEST(MergeShards, KeepsTheHttpClientWhenEveryShardRanTheSameOne) {
  auto a = shard(0, 2);
  auto b = shard(1, 2);
  a.run.http_client = b.run.http_client = "built-in HTTP/1.1";
  a.run.http_client_reason = b.run.http_client_reason = "http:// target, HTTP/1.1, no proxy";
  a.run.http_counts.reads = 10;
  a.run.http_counts.kernel_stamped_reads = 10;
  b.run.http_counts.reads = 7;
  b.run.http_counts.kernel_stamped_reads = 5;
  a.run.http_counts.waits = 100;
  a.run.http_counts.coalesced_waits = 40;
  a.run.http_counts.longest_pause_ns = 2'000'000;
  b.run.http_counts.waits = 50;
  b.run.http_counts.coalesced_waits = 0;
  b.run.http_counts.longest_pause_ns = 0;
  auto merged = merge_shards({a, b});
  ASSERT_TRUE(merged) << merged.error();
  EXPECT_EQ(merged->run.http_client, "built-in HTTP/1.1");
  EXPECT_EQ(merged->run.http_counts.reads, 17u);
  EXPECT_EQ(merged->run.http_counts.kernel_stamped_reads, 15u);
  EXPECT_EQ(merged->run.http_counts.waits, 150u);
  EXPECT_EQ(merged->run.http_counts.coalesced_waits, 40u);
  EXPECT_EQ(merged->run.http_counts.longest_pause_ns, 2'000'000u);  // the longest, not a sum
  EXPECT_EQ(merged->run.http_client_reason, "http:// target, HTTP/1.1, no proxy");
  b.run.http_client = "libcurl";  // e.g. a proxy set on one load machine: no single answer
  merged = merge_shards({a, b});
  ASSERT_TRUE(merged) << merged.error();
  EXPECT_EQ(merged->run.http_client, "");
}

// The client's CPU is the sum of the shards' (each shard's one-loop entry carries its own); one
// shard without it (written before it was recorded) leaves the merged run's unset, not a partial sum.
TEST(MergeShards, SumsTheShardsClientCpuWhenEveryShardHasIt) {
  using namespace std::chrono_literals;
  auto a = shard(0, 2);
  auto b = shard(1, 2);
  a.run.client_cpu = engine::CpuTime{300ms, 100ms};
  b.run.client_cpu = engine::CpuTime{500ms, 50ms};
  auto merged = merge_shards({a, b});
  ASSERT_TRUE(merged) << merged.error();
  EXPECT_EQ(merged->run.client_cpu, (engine::CpuTime{800ms, 150ms}));
  ASSERT_EQ(merged->run.threads.size(), 2u);
  EXPECT_EQ(merged->run.threads[0].cpu, (engine::CpuTime{300ms, 100ms}));
  EXPECT_EQ(merged->run.threads[1].cpu, (engine::CpuTime{500ms, 50ms}));
  b.run.client_cpu.reset();
  merged = merge_shards({a, b});
  ASSERT_TRUE(merged) << merged.error();
  EXPECT_EQ(merged->run.client_cpu, std::nullopt);
  EXPECT_EQ(merged->run.threads[1].cpu, std::nullopt);
}

// Every shard's event loops, by shard: shard 1 ran two loops (listed as they were), shard 0 one loop
// (listed as one entry made of its totals). A loop that lagged on one machine stays visible.
TEST(MergeShards, ListsEveryShardsEventLoopsByShard) {
  auto a = shard(0, 2);
  auto b = shard(1, 2);
  record(a, {1'000'000, 2'000'000, 3'000'000});
  a.run.total.histograms.event_loop_lag_ns.record(50'000);
  a.run.total.histograms.event_loop_lag_ns.record(70'000);
  for (std::size_t t = 0; t < 2; ++t) {
    engine::EngineThread loop;
    loop.index = t;
    loop.started = 10 + t;
    loop.completed = 9 + t;
    loop.event_loop_lag_ns.record(t == 1 ? 400'000'000 : 100'000);  // thread 1 stalled 400 ms
    b.run.threads.push_back(loop);
  }
  auto merged = merge_shards({b, a});  // any order: listed by shard index
  ASSERT_TRUE(merged) << merged.error();
  const auto& loops = merged->run.threads;
  ASSERT_EQ(loops.size(), 3u);
  EXPECT_EQ(loops[0].shard, 0u);
  EXPECT_EQ(loops[0].index, 0u);
  EXPECT_EQ(loops[0].started, 3u);
  EXPECT_EQ(loops[0].completed, 3u);
  EXPECT_EQ(loops[0].event_loop_lag_ns, a.run.total.histograms.event_loop_lag_ns);
  EXPECT_EQ(loops[1].shard, 1u);
  EXPECT_EQ(loops[1].index, 0u);
  EXPECT_EQ(loops[1].started, 10u);
  EXPECT_EQ(loops[2].shard, 1u);
  EXPECT_EQ(loops[2].index, 1u);
  EXPECT_EQ(loops[2].completed, 10u);
  EXPECT_EQ(loops[2].event_loop_lag_ns.max(), b.run.threads[1].event_loop_lag_ns.max());
}

TEST(MergeShards, WallDurationIsTheUnionOfTheShardsSpans) {
  auto a = shard(0, 2);
  auto b = shard(1, 2, 5000ms);
  record(a, std::vector<std::uint64_t>(100, 1'000'000));
  record(b, std::vector<std::uint64_t>(50, 1'000'000));
  b.run.phases[0].started_at = 0s;
  auto merged = merge_shards({a, b});
  ASSERT_TRUE(merged) << merged.error();
  EXPECT_EQ(merged->run.started_at, k_start);
  EXPECT_EQ(merged->run.ended_at, k_start + 15s);
  const auto& load = merged->run.phases[0];
  EXPECT_EQ(load.wall_duration, 15s);
  EXPECT_EQ(load.started_at, 0s);
  ASSERT_TRUE(engine::output_tokens_per_second(load));
  EXPECT_DOUBLE_EQ(*engine::output_tokens_per_second(load), 1500.0 / 15.0);

  auto c = shard(1, 2, 20'000ms);  // starts after a ended: 10 s + 10 s
  auto apart = merge_shards({a, c});
  ASSERT_TRUE(apart) << apart.error();
  EXPECT_EQ(apart->run.phases[0].wall_duration, 20s);
  EXPECT_EQ(apart->run.total.wall_duration, 20s);
}

TEST(MergeShards, SumsPeaksAndAlignsPerSecondBucketsOnAbsoluteTime) {
  auto a = shard(0, 2);
  auto b = shard(1, 2, 2000ms);  // its second 0 is the run's second 2
  a.run.phases[0].peak_in_flight = 3;
  b.run.phases[0].peak_in_flight = 4;
  a.run.phases[0].mean_in_flight = 1.5;
  b.run.phases[0].mean_in_flight = 2.0;
  a.run.per_second = {engine::SecondBucket{5, 4, 1, 40, 3, 1e7, 2e7, 1e6, 2e6}, engine::SecondBucket{1, 1, 0, 10, 1, {}, {}, {}, {}}};
  b.run.per_second = {engine::SecondBucket{2, 2, 0, 20, 2, 1e7, 2e7, 1e6, 2e6}};
  engine::count_completion(a.run.phases[0], 150ms, true);
  engine::count_completion(b.run.phases[0], 150ms, false);  // 2.15 s into the run
  auto merged = merge_shards({b, a});  // any order
  ASSERT_TRUE(merged) << merged.error();
  const auto& load = merged->run.phases[0];
  EXPECT_EQ(load.peak_in_flight, 7u);
  EXPECT_DOUBLE_EQ(load.mean_in_flight, 3.5);
  const auto& seconds = merged->run.per_second;
  ASSERT_EQ(seconds.size(), 3u);
  EXPECT_EQ(seconds[0].started, 5u);
  EXPECT_EQ(seconds[1].ok, 1u);
  EXPECT_EQ(seconds[2].started, 2u);
  EXPECT_EQ(seconds[2].output_tokens, 20u);
  EXPECT_FALSE(seconds[0].ttft_p95_ns);  // percentiles cannot be merged
  ASSERT_EQ(load.completions_per_100ms.size(), 22u);
  EXPECT_EQ(load.completions_per_100ms[1].ok, 1u);
  EXPECT_EQ(load.completions_per_100ms[21].failed, 1u);
  EXPECT_THAT(merged->notes, ::testing::Contains(HasSubstr("upper bound")));
  EXPECT_THAT(merged->notes, ::testing::Contains(HasSubstr("per-second TTFT and ITL percentiles cannot be merged")));
}

// Open loop: each shard records its share of the rate and of the iterations (engine slices), so the
// merged target is their sum, and the achieved rate is over the longest arrival window.
TEST(MergeShards, MatchesPhasesByNameAndSumsTheShardsShares) {
  auto a = shard(0, 2);
  auto b = shard(1, 2);
  for (auto* s : {&a, &b}) {
    auto open = phase("arrivals", 10s, 5s);
    open.executor = scenario::ExecutorKind::constant_arrival_rate;
    open.target_rate_per_s = 50;
    open.arrival_window = 4s;
    open.started = 200;
    s->run.phases.push_back(open);
  }
  b.run.phases[1].arrival_window = 4500ms;
  b.run.phases.push_back(phase("only-in-b", 2s, 1s));
  auto merged = merge_shards({a, b});
  ASSERT_TRUE(merged) << merged.error();
  ASSERT_EQ(merged->run.phases.size(), 3u);
  EXPECT_EQ(merged->run.phases[1].name, "arrivals");
  EXPECT_EQ(merged->run.phases[1].target_rate_per_s, 100);
  EXPECT_EQ(merged->run.phases[1].started, 400u);
  EXPECT_EQ(merged->run.phases[1].arrival_window, 4500ms);
  EXPECT_EQ(merged->run.phases[1].started_at, 10s);
  EXPECT_EQ(merged->run.phases[2].name, "only-in-b");
  EXPECT_EQ(merged->run.phases[2].wall_duration, 1s);

  auto other = shard(1, 2);
  other.run.phases[0].executor = scenario::ExecutorKind::poisson;
  auto mixed = merge_shards({a, other});
  ASSERT_FALSE(mixed);
  EXPECT_EQ(mixed.error(), "phase \"load\" has executor poisson in one shard and constant-vus in another");
}

TEST(MergeShards, RefusesShardsOfDifferentScenariosNamingBothFilesAndHashes) {
  auto a = shard(0, 2);
  auto b = shard(1, 2);
  b.scenario_sha256 = k_hash_b;
  auto merged = merge_shards({a, b});
  ASSERT_FALSE(merged);
  EXPECT_EQ(merged.error(), "shard-0.json and shard-1.json ran different scenario files (sha256 " + k_hash_a + " and " +
                                k_hash_b + "): merge only the shards of one sharded run");
}

TEST(MergeShards, RefusesTheSameIndexTwiceAndDifferentCounts) {
  auto a = shard(1, 2);
  auto b = shard(1, 2);
  b.file = "copy.json";
  auto twice = merge_shards({a, b});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error(), "shard-1.json and copy.json are both shard 1/2: give each shard's result once");
  auto counts = merge_shards({shard(0, 2), shard(1, 3)});
  ASSERT_FALSE(counts);
  EXPECT_EQ(counts.error(), "shard-0.json is shard 0/2 and shard-1.json is shard 1/3: the shards of one run share their count");
}

TEST(MergeShards, RefusesMissingShardsUnlessAllowedThenWarns) {
  auto refused = merge_shards({shard(0, 4), shard(2, 4)});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), "shards 1, 3 of 4 missing (given: shard-0.json, shard-2.json); pass --allow-missing-shards "
                             "to merge the others anyway");
  auto allowed = merge_shards({shard(0, 4), shard(2, 4)}, MissingShards::allow);
  ASSERT_TRUE(allowed) << allowed.error();
  EXPECT_EQ(allowed->missing, (std::vector<std::size_t>{1, 3}));
  ASSERT_EQ(allowed->diagnostics.size(), 1u);
  EXPECT_EQ(allowed->diagnostics[0].code, "missing_shards");
  EXPECT_EQ(allowed->diagnostics[0].severity, scrape::Severity::warning);
  EXPECT_THAT(allowed->diagnostics[0].message, HasSubstr("shards 1, 3 of 4 missing"));
  EXPECT_FALSE(merge_shards({}));
}

TEST(OrderChecks, PutsEveryPhasesChecksInTheScenariosOrder) {
  engine::RunResult run;
  run.phases.resize(1);
  run.phases[0].checks = {scenario::CheckKind::non_empty_content, scenario::CheckKind::sse_content_type,
                          scenario::CheckKind::status_200};
  run.total.checks = run.phases[0].checks;
  const std::vector<scenario::CheckKind> order = {scenario::CheckKind::status_200, scenario::CheckKind::sse_content_type,
                                                  scenario::CheckKind::non_empty_content};
  order_checks(run, order);
  EXPECT_EQ(run.phases[0].checks, order);
  EXPECT_EQ(run.total.checks, order);
}

nlohmann::json shard_document(const ShardResult& s) {
  return {{"shard", {{"index", s.index}, {"count", s.count}, {"start_at", nullptr}}},
          {"scenario", {{"path", "s.yaml"}, {"sha256", s.scenario_sha256}}},
          {"verdict", "not_judged"},
          {"errors", nlohmann::json::array()},
          {"run", engine::to_json(s.run)}};
}

TEST(ReadShard, ReadsTheShardObjectTheScenarioHashAndTheRun) {
  auto s = shard(1, 3);
  record(s, {1'000'000, 2'000'000});
  auto read = read_shard(shard_document(s), "f.json");
  ASSERT_TRUE(read) << read.error();
  EXPECT_EQ(read->index, 1u);
  EXPECT_EQ(read->count, 3u);
  EXPECT_EQ(read->scenario_sha256, k_hash_a);
  EXPECT_EQ(read->scenario_path, "s.yaml");
  EXPECT_EQ(read->run.phases.at(0).histograms.ttft_ns, s.run.phases[0].histograms.ttft_ns);
}

TEST(ReadShard, RefusesNonShardsFailedShardsAndBadRuns) {
  auto document = shard_document(shard(0, 2));
  auto no_shard = document;
  no_shard["shard"] = nullptr;
  EXPECT_THAT(read_shard(no_shard, "plain.json").error(), HasSubstr("plain.json: not a shard result"));
  auto failed = document;
  failed["verdict"] = "error";
  failed["errors"] = {"target unreachable"};
  EXPECT_EQ(read_shard(failed, "f.json").error(),
            "f.json: shard 0/2 ended with verdict error: target unreachable; run that shard again before merging");
  auto interrupted = document;
  interrupted["verdict"] = "interrupted";
  EXPECT_THAT(read_shard(interrupted, "i.json").error(), HasSubstr("ended with verdict interrupted"));
  auto bad_index = document;
  bad_index["shard"]["index"] = 2;
  EXPECT_THAT(read_shard(bad_index, "b.json").error(), HasSubstr("b.json: shard"));
  auto bad_run = document;
  bad_run["run"]["phases"][0]["counts"].erase("ok");
  EXPECT_EQ(read_shard(bad_run, "r.json").error(), "r.json: run.phases[0].counts.ok: missing");
  auto no_hash = document;
  no_hash["scenario"].erase("sha256");
  EXPECT_THAT(read_shard(no_hash, "h.json").error(), HasSubstr("h.json: scenario.sha256 missing"));
}

}  // namespace
}  // namespace llmd::run
