// Trace and dataset replay end to end: the real binary against the embedded simulator. The
// expectations are computed from the trace the test writes: when each record must start, and the
// hit rate its shared hash id blocks allow.
#include <cmath>
#include <map>
#include <set>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"

using llmd::test::phase_total;
using llmd::test::read_json;
using llmd::test::run_bench;
using llmd::test::scratch_dir;
using llmd::test::write_file;
using nlohmann::json;
using testing::HasSubstr;

namespace {

constexpr std::size_t k_block = 16;

struct Record {
  int timestamp_ms;
  std::size_t input_length;
  std::size_t output_length;
  std::vector<std::uint64_t> hash_ids;
};

std::string to_jsonl(const std::vector<Record>& records) {
  std::string out;
  for (const Record& r : records) {
    out += json{{"timestamp", r.timestamp_ms}, {"input_length", r.input_length}, {"output_length", r.output_length},
                {"hash_ids", r.hash_ids}}
               .dump() +
           "\n";
  }
  return out;
}

// The hit rate of the trace on one ideal cache as the simulator counts it (vLLM V1): a request hits
// the longest run of FULL blocks from its start that earlier requests computed (a block is the same
// when its hash id and every hash id before it are), capped at its prompt - 1 token.
double ideal_hit_rate(const std::vector<Record>& records) {
  std::set<std::vector<std::uint64_t>> cached;
  double hits = 0;
  double queries = 0;
  for (const Record& r : records) {
    const std::size_t full = std::min(r.hash_ids.size(), r.input_length / k_block);
    std::size_t hit_blocks = 0;
    for (std::size_t j = 0; j < full; ++j) {
      const std::vector<std::uint64_t> chain(r.hash_ids.begin(), r.hash_ids.begin() + static_cast<long>(j) + 1);
      if (cached.count(chain) == 0) {
        break;
      }
      hit_blocks = j + 1;
    }
    for (std::size_t j = 0; j < full; ++j) {
      cached.insert(std::vector<std::uint64_t>(r.hash_ids.begin(), r.hash_ids.begin() + static_cast<long>(j) + 1));
    }
    hits += static_cast<double>(std::min(hit_blocks * k_block, r.input_length - 1));
    queries += static_cast<double>(r.input_length);
  }
  return hits / queries;
}

}  // namespace

// 40 requests 100 ms apart on the trace's clock, all sharing their first 4 blocks, each with one
// block and 5 tokens of its own; replayed at speedup 2 and time_scale 0.1 (a request every 5 ms).
TEST(TraceReplay, ReplaysEveryRecordOnTheTracesClockAndHitsItsSharedBlocks) {
  const auto dir = scratch_dir();
  std::vector<Record> records;
  for (int i = 0; i < 40; ++i) {
    const auto own = static_cast<std::uint64_t>(1000 + 2 * i);
    records.push_back({i * 100, 4 * k_block + k_block + 5, 4, {0, 1, 2, 3, own, own + 1}});
  }
  const double expected_rate = ideal_hit_rate(records);
  EXPECT_DOUBLE_EQ(expected_rate, 39.0 * 64 / (40 * 85));  // the first 4 blocks: 64 of each 85 tokens
  write_file(dir / "t.jsonl", to_jsonl(records));
  write_file(dir / "s.yaml", R"(
requests:
  prompt: {kind: trace, path: t.jsonl, block_size: 16}
  ignore_eos: true
load:
  - {name: replay, executor: trace, speedup: 2, max_in_flight: 100}
time_scale: 0.1
sim: {pods: 4, route: prefix, block_size: 16, timing: {time_scale: 0.01}}
)");
  auto out = run_bench({(dir / "s.yaml").string(), "-q", "--out", "json=" + (dir / "r.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const json result = read_json(dir / "r.json");
  const json& phase = result["run"]["phases"][0];
  EXPECT_EQ(phase["executor"], "trace");
  EXPECT_EQ(phase["counts"]["ok"], 40);
  EXPECT_EQ(phase["counts"]["dropped"], 0);
  const json& trace = phase["trace"];
  EXPECT_EQ(trace["records"], 40);
  EXPECT_EQ(trace["started"], 40);
  EXPECT_DOUBLE_EQ(trace["speedup"].get<double>(), 20);  // speedup 2 / time_scale 0.1
  // Each record started when the trace says, never early, and late by at most the loop's lag.
  const json& offsets = trace["started_offsets_ns"];
  ASSERT_EQ(offsets.size(), 40u);
  for (std::size_t i = 0; i < 40; ++i) {
    const double due_ns = records[i].timestamp_ms * 1e6 / 20;
    const double started = offsets[i].get<double>();
    EXPECT_GE(started, due_ns) << "record " << i;
    EXPECT_LT(started - due_ns, 50e6) << "record " << i;
  }
  // Every prompt is exactly its input_length (the simulator's usage), its output output_length.
  EXPECT_EQ(phase["summary"]["input_tokens_total"], 40 * 85);
  EXPECT_EQ(phase["output_tokens_total"], 40 * 4);
  // The shared blocks are byte-identical: prefix routing puts them on one pod and every request
  // after the first hits exactly them.
  const json& totals = result["cache"]["totals"];
  EXPECT_EQ(totals["queries_tokens"], 40 * 85);
  EXPECT_NEAR(totals["hit_rate"].get<double>(), expected_rate, 0.01);
  // The summary prints the same ideal, computed by the binary from the records that started, next
  // to the measured rate.
  const json& ideal = result["ideal_hit_rate"];
  ASSERT_TRUE(ideal["rate"].is_number()) << ideal;
  EXPECT_DOUBLE_EQ(ideal["rate"].get<double>(), expected_rate);
  EXPECT_EQ(ideal["requests"], 40);
  EXPECT_EQ(ideal["hit_tokens"], 39 * 64);
  EXPECT_EQ(ideal["initial_cache"]["state"], "empty");
  EXPECT_THAT(out.out, HasSubstr(fmt::format("workload allows {:.1f}%, measured {:.1f}% (ideal: 40 measured requests "
                                             "from an empty cache",
                                             expected_rate * 100, totals["hit_rate"].get<double>() * 100)));
  // The echo says what was replayed.
  EXPECT_EQ(result["scenario"]["request"]["trace"]["block_size"], 16);
  EXPECT_EQ(result["scenario"]["phases"][0]["speedup"], 2.0);
}

// Records due while max_in_flight requests are running are dropped and counted, never delayed.
TEST(TraceReplay, RecordsDueWithMaxInFlightRunningAreDropped) {
  const auto dir = scratch_dir();
  std::vector<Record> records;
  for (int i = 0; i < 5; ++i) {
    records.push_back({0, 20, 40, {}});  // all due at once; each streams 40 tokens (~40 ms)
  }
  write_file(dir / "t.jsonl", to_jsonl(records));
  write_file(dir / "s.yaml", R"(
requests:
  prompt: {kind: trace, path: t.jsonl}
  ignore_eos: true
load:
  - {name: replay, executor: trace, max_in_flight: 1}
sim: {timing: {inter_token: 1ms}}
)");
  auto out = run_bench({(dir / "s.yaml").string(), "-q", "--out", "json=" + (dir / "r.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const json result = read_json(dir / "r.json");
  const json& phase = result["run"]["phases"][0];
  EXPECT_EQ(phase["counts"]["started"], 1);
  EXPECT_EQ(phase["counts"]["dropped"], 4);
  EXPECT_EQ(phase["trace"]["started"], 1);
  EXPECT_TRUE(phase["trace"]["started_offsets_ns"][0].is_number());
  EXPECT_TRUE(phase["trace"]["started_offsets_ns"][4].is_null());
}

TEST(TraceReplay, ReadyScenarioValidatesWithItsTraceSummary) {
  auto out = llmd::test::run_to_completion(
      {LLMD_BENCH_BINARY, "validate", std::string(LLMD_SOURCE_DIR) + "/scenarios/trace-replay.yaml", "--time-scale", "0.1"},
      std::chrono::seconds(60));
  EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("prompt trace "));
  EXPECT_THAT(out.out, HasSubstr("replay: trace, the trace's records at their timestamps / 10 (at most 200 in flight"));
  EXPECT_THAT(out.out, HasSubstr("trace:      120 records over 57.634s, 22174 input and 4933 output tokens, 1442 hash id "
                                 "blocks (372 distinct, 16 tokens each)"));
}

// The ready scenario: its trace's shared blocks allow 77.2%; prefix routing measures exactly that,
// round-robin over 4 pods misses the 75% gate.
TEST(TraceReplay, ReadyScenarioMeasuresTheHitRateItsTraceAllows) {
  std::vector<Record> records;
  std::ifstream trace(std::string(LLMD_SOURCE_DIR) + "/scenarios/data/mooncake-sample.jsonl");
  for (std::string line; std::getline(trace, line);) {
    const json r = json::parse(line);
    records.push_back({r["timestamp"].get<int>(), r["input_length"].get<std::size_t>(),
                       r["output_length"].get<std::size_t>(), r["hash_ids"].get<std::vector<std::uint64_t>>()});
  }
  ASSERT_EQ(records.size(), 120u);
  const auto dir = scratch_dir();
  const std::string scenario = std::string(LLMD_SOURCE_DIR) + "/scenarios/trace-replay.yaml";
  auto out = run_bench({scenario, "--time-scale", "0.1", "--sim-time-scale", "0.1", "-q", "--out",
                        "json=" + (dir / "r.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const json result = read_json(dir / "r.json");
  EXPECT_EQ(result["run"]["phases"][0]["trace"]["started"], 120);
  const double measured = result["cache"]["totals"]["hit_rate"].get<double>();
  EXPECT_NEAR(measured, ideal_hit_rate(records), 0.005);
  // The binary's ideal (whole blocks below each prompt's last token) agrees with the count above
  // (which caps at the last token) and with what the pods measured; the summary prints it.
  const double printed_ideal = result["ideal_hit_rate"]["rate"].get<double>();
  EXPECT_NEAR(printed_ideal, ideal_hit_rate(records), 0.005);
  EXPECT_NEAR(measured, printed_ideal, 0.005);
  EXPECT_EQ(result["ideal_hit_rate"]["requests"], 120);
  EXPECT_THAT(out.out, HasSubstr(fmt::format("workload allows {:.1f}%, measured {:.1f}%", printed_ideal * 100, measured * 100)));
  auto round_robin = run_bench({scenario, "--time-scale", "0.1", "--sim-time-scale", "0.1", "--sim-route", "round-robin", "-q"});
  EXPECT_EQ(round_robin.exit_code, 1) << round_robin.out << round_robin.err;
  EXPECT_THAT(round_robin.out, HasSubstr("cache_hit_rate = 0.5"));
}

TEST(TraceReplay, ValidateReadsTheTraceAndNamesTheBadLine) {
  const auto dir = scratch_dir();
  write_file(dir / "t.jsonl", "{\"timestamp\": 0, \"input_length\": 4, \"output_length\": 1}\n{\"timestamp\": 1}\n");
  write_file(dir / "s.yaml", "requests:\n  prompt: {kind: trace, path: t.jsonl}\nload:\n  - {executor: trace}\n");
  auto out = llmd::test::run_to_completion({LLMD_BENCH_BINARY, "validate", (dir / "s.yaml").string()},
                                           std::chrono::seconds(60));
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr((dir / "t.jsonl").string() +
                                 ":2: \"input_length\" must be an integer 1..1048576, got: nothing"));
}

// The ShareGPT sample replayed turn by turn by one user: 6 requests (2 + 3 + 1 turns), each asking
// for as many tokens as the dataset's answer has words (13 + 4 + 18 + 9 + 3 + 8).
TEST(DatasetReplay, ShareGptMultiTurnSendsEveryTurnWithTheDatasetsAnswerLengths) {
  const auto dir = scratch_dir();
  write_file(dir / "s.yaml", "api: chat\nrequests:\n  prompt:\n    kind: dataset\n    path: " +
                                 std::string(LLMD_TEST_FIXTURES) +
                                 "/datasets/sharegpt-sample.json\n    replay: multi-turn\n    output_tokens: dataset\n"
                                 "  ignore_eos: true\nload:\n  - {executor: iterations, iterations: 6, vus: 1}\n"
                                 "sim: {route: prefix, timing: {time_scale: 0.01}}\n");
  auto out = run_bench({(dir / "s.yaml").string(), "-q", "--out", "json=" + (dir / "r.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const json result = read_json(dir / "r.json");
  EXPECT_EQ(phase_total(result)["counts"]["ok"], 6);
  EXPECT_EQ(phase_total(result)["output_tokens_total"], 13 + 4 + 18 + 9 + 3 + 8);
  EXPECT_EQ(result["scenario"]["request"]["dataset"]["replay"], "multi-turn");
  EXPECT_EQ(result["scenario"]["request"]["dataset"]["format"], nullptr);  // detected
  // Later turns resend the history: the cache serves part of it.
  EXPECT_GT(result["cache"]["totals"]["hits_tokens"].get<double>(), 0);
}
