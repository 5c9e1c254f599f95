// Trace files (engine/trace.hpp): parsing and its errors, the text of hash id blocks, the prompts
// built from records, and the trace executor's clock (engine/trace_executor.hpp).
#include "engine/trace.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/executors.hpp"
#include "engine/trace_executor.hpp"
#include "temp_file.hpp"
#include "sim/tokenizer.hpp"

namespace llmd::engine {
namespace {

using namespace std::chrono_literals;
using testing::HasSubstr;

using test::TempFile;

std::string load_error(const std::string& content, std::size_t block_size = 16) {
  TempFile file(content);
  auto trace = load_trace(file.path(), block_size);
  EXPECT_FALSE(trace) << "loaded: " << content;
  const std::string error = trace ? "" : trace.error();
  // Every error names the file first.
  EXPECT_EQ(error.rfind(file.path(), 0), 0u) << error;
  return error.substr(std::min(error.size(), file.path().size()));
}

TEST(TraceFile, ReadsMooncakeRecords) {
  TempFile file(
      "{\"timestamp\": 0, \"input_length\": 40, \"output_length\": 5, \"hash_ids\": [0, 1, 2]}\n"
      "\n"
      "{\"timestamp\": 27.5, \"input_length\": 7, \"output_length\": 1, \"session\": \"ignored\"}\r\n"
      "{\"timestamp\": 27.5, \"input_length\": 32, \"output_length\": 9, \"hash_ids\": [0, 5]}");
  auto trace = load_trace(file.path(), 16);
  ASSERT_TRUE(trace) << trace.error();
  ASSERT_EQ(trace->records.size(), 3u);
  EXPECT_EQ(trace->block_size, 16u);
  EXPECT_EQ(trace->records[0].hash_ids, (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_EQ(trace->records[1].timestamp, 27500us);
  EXPECT_TRUE(trace->records[1].hash_ids.empty());
  EXPECT_EQ(trace->records[2].output_length, 9u);
  const TraceSummary summary = summarize(*trace);
  EXPECT_EQ(summary.records, 3u);
  EXPECT_EQ(summary.span, 27500us);
  EXPECT_EQ(summary.input_tokens, 79u);
  EXPECT_EQ(summary.output_tokens, 15u);
  EXPECT_EQ(summary.blocks, 5u);
  EXPECT_EQ(summary.distinct_blocks, 4u);
}

TEST(TraceFile, ErrorsNameTheLineAndTheFix) {
  EXPECT_EQ(load_error("{\"timestamp\": 0, \"input_length\": 4, \"output_length\": 1}\n{oops\n"),
            ":2: not valid JSON: \"{oops\"");
  EXPECT_EQ(load_error("[1, 2]\n"),
            ":1: expected an object {\"timestamp\", \"input_length\", \"output_length\", \"hash_ids\"}, got: [1, 2]");
  EXPECT_EQ(load_error("{\"input_length\": 4, \"output_length\": 1}\n"),
            ":1: \"timestamp\" must be a number of ms since the trace start, 0..2592000000 (720h), got: nothing");
  EXPECT_EQ(load_error("{\"timestamp\": -1, \"input_length\": 4, \"output_length\": 1}\n"),
            ":1: \"timestamp\" must be a number of ms since the trace start, 0..2592000000 (720h), got: -1");
  EXPECT_EQ(load_error("{\"timestamp\": 0, \"input_length\": \"12\", \"output_length\": 1}\n"),
            ":1: \"input_length\" must be an integer 1..1048576, got: \"12\"");
  EXPECT_EQ(load_error("{\"timestamp\": 0, \"input_length\": 0, \"output_length\": 1}\n"),
            ":1: \"input_length\" must be an integer 1..1048576, got: 0");
  EXPECT_EQ(load_error("{\"timestamp\": 0, \"input_length\": 4}\n"),
            ":1: \"output_length\" must be an integer 1..1048576, got: nothing");
  EXPECT_EQ(load_error("{\"timestamp\": 0, \"input_length\": 4, \"output_length\": 2.5}\n"),
            ":1: \"output_length\" must be an integer 1..1048576, got: 2.5");
  EXPECT_EQ(load_error("{\"timestamp\": 0, \"input_length\": 4, \"output_length\": 1, \"hash_ids\": 3}\n"),
            ":1: \"hash_ids\" must be a list of block ids (integers >= 0), got: 3");
  EXPECT_EQ(load_error("{\"timestamp\": 0, \"input_length\": 40, \"output_length\": 1, \"hash_ids\": [1, -2]}\n"),
            ":1: hash_ids[1] must be an integer >= 0, got: -2");
  EXPECT_EQ(load_error("{\"timestamp\": 250, \"input_length\": 4, \"output_length\": 1}\n"
                       "{\"timestamp\": 100, \"input_length\": 4, \"output_length\": 1}\n"),
            ":2: timestamp 100 ms is before the previous record's 250 ms: sort the trace by timestamp");
  EXPECT_EQ(load_error("{\"timestamp\": 0, \"input_length\": 20, \"output_length\": 5, \"hash_ids\": [0, 1, 2]}\n", 16),
            ":1: 3 hash_ids of block_size 16 tokens need input_length > 32, got 20: set the prompt's block_size to the "
            "trace's (Mooncake traces: 512)");
  EXPECT_EQ(load_error("\n \n"),
            ": no records (expected one JSON object per line: {\"timestamp\": ms, \"input_length\": N, "
            "\"output_length\": N, \"hash_ids\": [...]})");
}

TEST(TraceFile, MooncakeRecordsNeedTheirBlockSize) {
  // 14 hash ids for 6,755 tokens: Mooncake's 512-token blocks (ceil(6755 / 512) = 14). With 16-token
  // blocks they would cover 224 tokens: allowed (the tail is unique), but 15 ids at 512 are not.
  TempFile file("{\"timestamp\": 0, \"input_length\": 6755, \"output_length\": 500, \"hash_ids\": "
                 "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]}\n");
  auto trace = load_trace(file.path(), 512);
  ASSERT_TRUE(trace) << trace.error();
  std::string prompt;
  build_trace_prompt(trace->records[0], 0, 512, prompt);
  EXPECT_EQ(sim::count_tokens(prompt), 6755u);
  EXPECT_TRUE(load_trace(file.path(), 16));
  EXPECT_EQ(load_error("{\"timestamp\": 0, \"input_length\": 6755, \"output_length\": 5, \"hash_ids\": "
                       "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]}\n",
                       512),
            ":1: 15 hash_ids of block_size 512 tokens need input_length > 7168, got 6755: set the prompt's block_size "
            "to the trace's (Mooncake traces: 512)");
}

TEST(TraceFile, MissingFileAndEndlessDeviceAreRefused) {
  auto missing = load_trace("/nonexistent/t.jsonl", 16);
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error(), HasSubstr("/nonexistent/t.jsonl"));
  auto endless = load_trace("/dev/zero", 16);
  ASSERT_FALSE(endless);
  EXPECT_EQ(endless.error(), "/dev/zero: trace is larger than 256 MiB (the most llmd-bench reads): split it or sample it");
}

TEST(TraceBlocks, SameHashIdIsTheSameTextOfExactlyBlockSizeSimulatorTokens) {
  for (const std::size_t block_size : {1, 16, 512}) {
    std::string a;
    std::string b;
    append_block_text(42, block_size, a);
    append_block_text(42, block_size, b);
    EXPECT_EQ(a, b);
    EXPECT_EQ(sim::count_tokens(a), block_size);
    std::string other;
    append_block_text(43, block_size, other);
    if (block_size >= 16) {
      EXPECT_NE(a, other);
    }
  }
  // A cut block is the start of the whole block.
  std::string whole;
  std::string cut;
  append_block_text(7, 16, whole);
  append_block_text(7, 5, cut);
  EXPECT_EQ(whole.rfind(cut, 0), 0u);
  EXPECT_EQ(sim::count_tokens(cut), 5u);
}

TEST(TraceBlocks, RecordsSharingHashIdsShareByteIdenticalBlocksAndHaveExactLengths) {
  const std::size_t block = 16;
  const TraceRecord first{0ms, 70, 4, {0, 1, 2, 3, 9}};   // 4 full blocks + 6 tokens of block 9
  const TraceRecord second{5ms, 100, 4, {0, 1, 2, 7}};   // 3 shared blocks, block 7, then 36 unique
  const TraceRecord same_ids{6ms, 70, 4, {0, 1, 2, 3, 9}};
  std::string a;
  std::string b;
  std::string c;
  build_trace_prompt(first, 0, block, a);
  build_trace_prompt(second, 1, block, b);
  build_trace_prompt(same_ids, 2, block, c);
  EXPECT_EQ(sim::count_tokens(a), 70u);
  EXPECT_EQ(sim::count_tokens(b), 100u);
  const auto ta = sim::tokenize(a);
  const auto tb = sim::tokenize(b);
  // The first 3 blocks are token for token the same, the 4th differs.
  EXPECT_TRUE(std::equal(ta.begin(), ta.begin() + 48, tb.begin()));
  EXPECT_FALSE(std::equal(ta.begin() + 48, ta.begin() + 64, tb.begin() + 48));
  // ... and byte for byte: the blocks' text is a function of the hash id alone.
  std::string shared;
  for (const std::uint64_t id : {0, 1, 2}) {
    append_block_text(id, block, shared);
  }
  EXPECT_EQ(a.rfind(shared + " ", 0), 0u);
  EXPECT_EQ(b.rfind(shared + " ", 0), 0u);
  // Identical hash ids and lengths give identical prompts (the tail is cut inside block 9).
  EXPECT_EQ(a, c);
  // The unique tail starts with the record index (base 256, least significant first).
  const auto tail = sim::tokenize(b);
  std::string again;
  build_trace_prompt(second, 1, block, again);
  EXPECT_EQ(again, b);
  std::string other_index;
  build_trace_prompt(second, 2, block, other_index);
  EXPECT_NE(other_index, b);  // the same record at another index: the same blocks, another tail
  const auto to = sim::tokenize(other_index);
  ASSERT_EQ(to.size(), 100u);
  EXPECT_TRUE(std::equal(to.begin(), to.begin() + 64, tail.begin()));
  EXPECT_NE(to[64], tail[64]);
}

// --- the executor's clock ---

const TimePoint k_t0{std::chrono::seconds(1000)};

struct Launched {
  std::size_t record;
  TimePoint scheduled;
};

class RecordingLauncher final : public Launcher {
 public:
  void launch(std::size_t vu, TimePoint scheduled) override { launched.push_back({vu, scheduled}); }
  void drop(TimePoint scheduled) override { dropped.push_back(scheduled); }
  std::vector<Launched> launched;
  std::vector<TimePoint> dropped;
};

Trace make_trace(std::initializer_list<int> timestamps_ms) {
  Trace trace;
  for (const int ms : timestamps_ms) {
    trace.records.push_back(TraceRecord{std::chrono::milliseconds(ms), 4, 1, {}});
  }
  return trace;
}

scenario::Phase trace_phase(double speedup, std::size_t max_in_flight = 100) {
  scenario::Phase phase;
  phase.name = "replay";
  phase.executor = scenario::ExecutorKind::trace;
  phase.speedup = speedup;
  phase.max_in_flight = max_in_flight;
  phase.max_duration = 24h;
  return phase;
}

TEST(TraceExecutor, StartsEachRecordAtItsTimestampDividedBySpeedup) {
  const Trace trace = make_trace({1000, 1000, 1400, 3000});  // the first record is the origin
  auto executor = make_executor(trace_phase(2), k_t0, 1, &trace);
  ASSERT_NE(executor, nullptr);
  RecordingLauncher launcher;
  EXPECT_EQ(executor->tick(k_t0, launcher), k_t0 + 200ms);
  ASSERT_EQ(launcher.launched.size(), 2u);
  EXPECT_EQ(launcher.launched[0].record, 0u);
  EXPECT_EQ(launcher.launched[1].record, 1u);
  EXPECT_EQ(launcher.launched[1].scheduled, k_t0);
  EXPECT_EQ(executor->tick(k_t0 + 199ms, launcher), k_t0 + 200ms);  // not due yet
  EXPECT_EQ(launcher.launched.size(), 2u);
  EXPECT_EQ(executor->tick(k_t0 + 250ms, launcher), k_t0 + 1000ms);  // late: due time kept
  ASSERT_EQ(launcher.launched.size(), 3u);
  EXPECT_EQ(launcher.launched[2].scheduled, k_t0 + 200ms);
  EXPECT_FALSE(executor->done_starting(k_t0 + 250ms));
  EXPECT_EQ(executor->tick(k_t0 + 1000ms, launcher), TimePoint::max());
  ASSERT_EQ(launcher.launched.size(), 4u);
  EXPECT_EQ(launcher.launched[3].scheduled, k_t0 + 1000ms);
  EXPECT_TRUE(executor->done_starting(k_t0 + 1000ms));
  EXPECT_EQ(executor->end_time(), k_t0 + 1000ms + 1ns);
  EXPECT_EQ(executor->loop(), LoopKind::open);
}

TEST(TraceExecutor, TimeScaleDividesTheSpeedupOnceScaled) {
  const Trace trace = make_trace({0, 500, 2000});
  const scenario::Phase scaled = scale_phase(trace_phase(2), 0.1);  // 20x faster in all
  EXPECT_DOUBLE_EQ(scaled.speedup, 20);
  EXPECT_EQ(trace_due_offset(trace, 1, scaled.speedup), 25ms);
  EXPECT_EQ(trace_due_offset(trace, 2, scaled.speedup), 100ms);
  auto executor = make_executor(scaled, k_t0, 1, &trace);
  RecordingLauncher launcher;
  EXPECT_EQ(executor->tick(k_t0, launcher), k_t0 + 25ms);
  EXPECT_EQ(executor->tick(k_t0 + 25ms, launcher), k_t0 + 100ms);
  EXPECT_EQ(launcher.launched.size(), 2u);
}

TEST(TraceExecutor, DropsDueRecordsWhileMaxInFlightAreRunningAndKeepsRecordIndexes) {
  const Trace trace = make_trace({0, 0, 0, 10, 20});
  auto executor = make_executor(trace_phase(1, 2), k_t0, 1, &trace);
  RecordingLauncher launcher;
  executor->tick(k_t0, launcher);
  ASSERT_EQ(launcher.launched.size(), 2u);
  ASSERT_EQ(launcher.dropped.size(), 1u);  // record 2, due with 2 in flight
  EXPECT_EQ(launcher.dropped[0], k_t0);
  executor->on_done(0, k_t0 + 5ms, launcher);
  executor->tick(k_t0 + 10ms, launcher);
  ASSERT_EQ(launcher.launched.size(), 3u);
  EXPECT_EQ(launcher.launched[2].record, 3u);  // record 3 gets its own prompt: the drop skipped record 2
  EXPECT_EQ(executor->active(), 2u);
  executor->tick(k_t0 + 20ms, launcher);
  EXPECT_EQ(launcher.dropped.size(), 2u);
  EXPECT_TRUE(executor->done_starting(k_t0 + 20ms));
}

TEST(TraceExecutor, MaxDurationEndsTheReplayAndStopStartsNothingMore) {
  const Trace trace = make_trace({0, 100, 5000});
  scenario::Phase phase = trace_phase(1);
  phase.max_duration = 1s;
  auto executor = make_executor(phase, k_t0, 1, &trace);
  RecordingLauncher launcher;
  EXPECT_EQ(executor->end_time(), k_t0 + 1s);
  executor->tick(k_t0 + 100ms, launcher);
  EXPECT_TRUE(executor->done_starting(k_t0 + 100ms));  // record 2 is due after the end
  EXPECT_EQ(executor->tick(k_t0 + 6s, launcher), TimePoint::max());
  EXPECT_EQ(launcher.launched.size(), 2u);
  EXPECT_TRUE(launcher.dropped.empty());

  auto stopped = make_executor(trace_phase(1), k_t0, 1, &trace);
  stopped->stop();
  EXPECT_EQ(stopped->tick(k_t0 + 6s, launcher), TimePoint::max());
  EXPECT_EQ(launcher.launched.size(), 2u);
}

TEST(TraceExecutor, ValidatePhaseChecksSpeedupAndATracePhaseNeedsATrace) {
  scenario::Phase phase = trace_phase(0);
  auto valid = validate_phase(phase);
  ASSERT_FALSE(valid);
  EXPECT_EQ(valid.error(), "phase \"replay\": trace needs a speedup > 0, got 0");
  EXPECT_TRUE(validate_phase(trace_phase(1)));
  EXPECT_EQ(make_executor(trace_phase(1), k_t0, 1, nullptr), nullptr);
}

}  // namespace
}  // namespace llmd::engine
