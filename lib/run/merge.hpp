#pragma once
// `llmd-bench merge` without the CLI (issue 16 item 3): shard results (`run --shard i/N --out
// json=FILE`) into one engine::RunResult, exactly where the data allows it:
//   - phases matched by name (in the order the shards list them), counters and checks summed,
//     every histogram merged bucket by bucket: percentiles come from the merged histogram, never
//     from the shards' percentiles;
//   - started_at = the earliest shard start, ended_at = the latest end; a phase's wall_duration is
//     the union of the shards' spans of that phase (absolute start = shard started_at +
//     started_at_ns, end = start + wall_duration), so tokens/s and req/s are over the union of wall
//     time, not a sum of per-shard rates;
//   - peak_in_flight and mean_in_flight are the sums of the shards' (the peaks may not coincide:
//     the merged peak is an upper bound, and the merged result's notes say so);
//   - per-second buckets and the 100 ms completion slices aligned on absolute time (each shard's
//     offset from the earliest start, rounded to the bucket) and their counts summed; per-second
//     TTFT/ITL percentiles cannot be merged from percentiles, so they are null (noted).
// Refused, naming the files: a result that is no shard (no `shard` object), a shard whose run
// ended in error or was interrupted, shards of different scenario files (scenario.sha256), of
// different shard counts, the same index twice, and missing indices unless MissingShards::allow
// (then a warning diagnostic `missing_shards` names them).
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/run_result.hpp"
#include "run/run_report.hpp"
#include "util/result.hpp"

namespace llmd::run {

// One shard's result file, read back.
struct ShardResult {
  std::string file;                     // as named on the command line (every message quotes it)
  std::size_t index = 0;                // shard.index, 0 .. count-1
  std::size_t count = 1;                // shard.count
  std::optional<std::string> start_at;  // shard.start_at (RFC 3339), nullopt without --start-at
  std::string scenario_sha256;          // scenario.sha256: the scenario file's bytes
  std::string scenario_path;            // scenario.path, as the shard was given it
  std::string started_at;               // run.started_at as the shard wrote it (RFC 3339 UTC)
  engine::RunResult run;                // the result's `run`
};

// The shard in one result document (parsed with cli/result_file.hpp's bounded reader). Errors name
// `file`: not a shard result, a verdict of error or interrupted (with the shard's first error),
// a `run` that does not read back (engine::run_result_from_json's path).
util::Result<ShardResult> read_shard(const nlohmann::json& result, const std::string& file);

enum class MissingShards { refuse, allow };

struct MergedShards {
  engine::RunResult run;
  std::size_t count = 0;                      // shard.count of every file
  std::vector<std::size_t> missing;           // indices no file brought (MissingShards::allow)
  std::vector<std::string> notes;             // what the merge could not keep exactly, and why
  std::vector<RunDiagnostic> diagnostics;     // missing_shards (warning) when shards are missing
};

// Merges `shards` (in any order; they are sorted by index). The error names the files at fault.
util::Result<MergedShards> merge_shards(std::vector<ShardResult> shards, MissingShards missing = MissingShards::refuse);

// Puts every phase's checks in `order` (the scenario's): a result file lists them by name, so they
// read back in alphabetical order, and the summary lists checks as the scenario does.
void order_checks(engine::RunResult& run, const std::vector<scenario::CheckKind>& order);

// The refusals of merge_shards() alone: same scenario hash and count, distinct indices, none
// missing unless allowed. Returns the missing indices.
util::Result<std::vector<std::size_t>> check_shard_set(const std::vector<ShardResult>& shards, MissingShards missing);

}  // namespace llmd::run
