#pragma once
// `llmd-bench diff BEFORE AFTER`: the prefix-cache report computed offline from two saved
// snapshots (each a <pod>.prom / <pod>.txt file or a folder of them, e.g. from
// `llmd-bench scrape --save-dir`). Prints the same cache table as `run` (or --json: the
// scrape::to_json form, plus "gate" when --gate is given).
//
// --gate EXPR judges the overall hit rate with the threshold grammar of scenario files
// (cache_hit_rate, e.g. ">=0.90"; a report without queries has no data and fails).
// Exit codes: 0 ok, 1 the gate failed, 2 usage (bad flag, bad gate, a path that is no dump),
// 3 no pod could be read in either snapshot.
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/exit_codes.hpp"
#include "scrape/snapshot.hpp"
#include "util/result.hpp"

namespace llmd::cli {

struct DiffOptions {
  std::string before_path;          // BEFORE: file or folder of dumps
  std::string after_path;           // AFTER: file or folder of dumps
  std::string model_filter;         // --model: only series with this model_name ("" = all)
  bool json = false;                // --json
  std::optional<std::string> gate;  // --gate: cache_hit_rate threshold, e.g. ">=0.90"
  std::size_t allow_missing_pods = 0;  // --allow-missing-pods: the gate still judges with this many pods missing
};

// One saved snapshot (a dump file or a folder of them), read as `diff` and `merge --cache-before`
// read it: each pod's counters, only series with `model_filter` ("" = all).
struct Snapshots {
  std::string description;  // FileSource::describe()
  std::vector<scrape::PodSnapshotResult> pods;
};
util::Result<Snapshots> read_snapshots(const std::string& path, const std::string& model_filter);

void add_diff_options(CLI::App& command, DiffOptions& options);
// Prints the cache report (or JSON) on stdout; errors are returned, cli::run prints them.
CommandResult run_diff_command(const DiffOptions& options);

}  // namespace llmd::cli
