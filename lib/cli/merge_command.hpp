#pragma once
// `llmd-bench merge SHARD.json...`: the results of a sharded run (`run --shard I/N --out json=FILE`,
// one per load process) merged exactly (run/merge.hpp) into one run result, then judged and
// rendered as `run` does: the scenario's thresholds and checks on the merged data, the text summary,
// --out json / junit / html through the same exporter. The merged JSON has "shard": null and
// "merged_from": one entry per file.
//
// The scenario is loaded from the path the shards recorded (scenario.path) or --scenario FILE, and
// must be the bytes the shards ran (scenario.sha256). With --cache-before DIR --cache-after DIR (the
// coordinator's `llmd-bench scrape --save-dir` folders, taken once around the whole run) the cache
// report is computed as `diff` does, so cache thresholds judge the whole fleet.
// Exit codes as `run`: 0 pass, 1 a gate failed, 2 usage (bad flag, a file that is no shard result,
// shards that do not belong together, a changed scenario), 3 an output that could not be written.
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/exit_codes.hpp"

namespace llmd::cli {

struct MergeOptions {
  std::vector<std::string> shard_paths;        // SHARD.json...: results of `run --shard I/N --out json=FILE`
  std::optional<std::string> scenario_path;    // --scenario: instead of the path the shards recorded
  std::optional<std::string> cache_before;     // --cache-before: snapshot folder (or file) before the run
  std::optional<std::string> cache_after;      // --cache-after: after it
  std::vector<std::string> outputs;            // --out FORMAT=FILE: json, junit or html
  bool allow_missing_shards = false;           // --allow-missing-shards: merge N-k of N, with a warning
  bool quiet = false;                          // -q: no text summary
};

void add_merge_options(CLI::App& command, MergeOptions& options);
CommandResult run_merge_command(const MergeOptions& options);

}  // namespace llmd::cli
