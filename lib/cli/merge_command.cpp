#include "cli/merge_command.hpp"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/diff_command.hpp"
#include "cli/result_file.hpp"
#include "cli/run_outputs.hpp"
#include "report/text_report.hpp"
#include "run/gates.hpp"
#include "run/merge.hpp"
#include "run/run_diagnostics.hpp"
#include "scenario/loader.hpp"
#include "scrape/cache_report.hpp"
#include "util/atomic_file.hpp"
#include "util/sha256.hpp"

namespace llmd::cli {

namespace {

using nlohmann::json;

// Where the first shard's load went (every shard ran the same scenario): target, model.
struct TargetHeader {
  json target = json::object();
  std::string model;
  std::string model_source;
};

TargetHeader target_header(const json& result) {
  TargetHeader header;
  if (result.contains("target") && result["target"].is_object()) {
    header.target = result["target"];
  }
  header.model = result.value("model", "");
  header.model_source = result.value("model_source", "");
  return header;
}

// The shards' files, read and checked on up to 4 threads: parsing the JSON is most of a merge's
// time (16 files of a 10-minute run are ~75 MB). The error names the first file at fault in the
// order given; only the first file's DOM outlives its reading (for its target header).
util::Result<std::vector<run::ShardResult>> read_shards(const std::vector<std::string>& paths, TargetHeader& header) {
  std::vector<std::optional<util::Result<run::ShardResult>>> read(paths.size());
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i = next++; i < paths.size(); i = next++) {
      auto parsed = read_result_file(paths[i]);
      if (!parsed) {
        read[i] = util::fail(parsed.error());
        continue;
      }
      if (i == 0) {
        header = target_header(*parsed);
      }
      read[i] = run::read_shard(*parsed, paths[i]);
    }
  };
  const std::size_t threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
  std::vector<std::thread> workers;
  for (std::size_t t = 1; t < std::min(threads, paths.size()); ++t) {
    workers.emplace_back(work);
  }
  work();
  for (auto& worker : workers) {
    worker.join();
  }
  std::vector<run::ShardResult> shards;
  for (auto& shard : read) {
    if (!*shard) {
      return util::fail(shard->error());
    }
    shards.push_back(std::move(**shard));
  }
  return shards;
}

// The scenario as the shards ran it: the same bytes (sha256), loaded by the normal loader.
util::Result<scenario::Scenario> load_shards_scenario(const MergeOptions& options, const run::ShardResult& shard) {
  const std::string path = options.scenario_path.value_or(shard.scenario_path);
  const std::string flag = options.scenario_path ? "--scenario " + path : "scenario " + path + " (recorded in " + shard.file + ")";
  if (path.empty()) {
    return util::fail(fmt::format("{} records no scenario path; name the scenario file with --scenario FILE", shard.file));
  }
  auto bytes = util::read_file(path);
  if (!bytes) {
    return util::fail(fmt::format("{}: {}; name it with --scenario FILE", flag, bytes.error()));
  }
  if (const auto hash = util::sha256_hex(*bytes); hash != shard.scenario_sha256) {
    return util::fail(fmt::format("{}: the scenario file changed since the shards ran (sha256 {} now, {} in {})", flag,
                                  hash, shard.scenario_sha256, shard.file));
  }
  auto loaded = scenario::load_scenario_text(*bytes, path);
  if (!loaded) {
    return util::fail(loaded.error());
  }
  return loaded;
}

// --cache-before / --cache-after: the coordinator's snapshots, compared as `diff` does.
util::Result<void> add_cache_report(const MergeOptions& options, run::RunReport& report) {
  if (!options.cache_before && !options.cache_after) {
    return {};
  }
  if (!options.cache_before || !options.cache_after) {
    return util::fail("--cache-before and --cache-after go together: the snapshots taken before and after the sharded run");
  }
  auto before = read_snapshots(*options.cache_before, report.scenario->cache.model_filter);
  auto after = read_snapshots(*options.cache_after, report.scenario->cache.model_filter);
  for (const auto* read : {&before, &after}) {
    if (!*read) {
      return util::fail(read->error());
    }
  }
  report.cache = scrape::compute_cache_report(before->pods, after->pods);
  report.cache_source = fmt::format("snapshots {} to {}", before->description, after->description);
  return {};
}

void describe_target(const TargetHeader& header, run::RunReport& report) {
  report.target_url = header.target.value("url", "");
  report.embedded_sim = header.target.value("embedded_sim", false);
  report.sim_description = header.target.value("sim", json());
  report.model = header.model;
  report.model_source = header.model_source;
}

std::vector<run::MergedShard> merged_from(const std::vector<run::ShardResult>& shards) {
  std::vector<run::MergedShard> from;
  for (const auto& shard : shards) {
    from.push_back({shard.file, shard.index, shard.started_at});
  }
  std::sort(from.begin(), from.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  return from;
}

// Writes every output (files first, then standard output and streams) and prints the summary; an
// output that cannot be written is an error (exit 3), and the files are written again with it.
void finish(run::RunReport& report, const Outputs& outputs, bool quiet, CommandResult& result) {
  auto failures = write_output_files(report, outputs);
  for (const auto& stream : stream_outputs(outputs)) {
    if (auto failure = write_output(report, stream)) {
      failures.push_back(std::move(*failure));
    }
  }
  if (!failures.empty()) {
    for (const auto& failure : failures) {
      report.errors.push_back("result not written: " + failure);
      result.errors.push_back(failure);
    }
    run::judge(report);
    (void)write_output_files(report, outputs);
  }
  if (!quiet) {
    print_summary(outputs, report::render_text(report));
  }
  result.exit_code = exit_code(report.verdict);
}

util::Result<Outputs> merge_outputs(const MergeOptions& options) {
  auto outputs = parse_outputs(options.outputs, std::nullopt);
  if (!outputs) {
    return outputs;
  }
  if (!outputs->push_urls.empty()) {
    return util::fail("--out prometheus-push=URL: merge writes json, junit or html; push from the merged JSON's run instead");
  }
  for (const auto& output : outputs->files) {
    if (report::is_streamed(output.format)) {
      return util::fail(fmt::format("--out {}={}: merge writes json, junit or html (csv is each shard's per-request log)",
                                    report::to_string(output.format), output.path));
    }
  }
  if (auto prepared = prepare_outputs(*outputs); !prepared) {
    return util::fail(prepared.error());
  }
  return outputs;
}

}  // namespace

CommandResult run_merge_command(const MergeOptions& options) {
  CommandResult result;
  auto outputs = merge_outputs(options);
  if (!outputs) {
    return result.fail(k_exit_usage, outputs.error());
  }
  TargetHeader header;
  auto shards = read_shards(options.shard_paths, header);
  if (!shards) {
    return result.fail(k_exit_usage, shards.error());
  }
  auto scenario = load_shards_scenario(options, shards->front());
  if (!scenario) {
    return result.fail(k_exit_usage, scenario.error());
  }
  const auto from = merged_from(*shards);
  auto merged = run::merge_shards(std::move(*shards), options.allow_missing_shards ? run::MissingShards::allow
                                                                                   : run::MissingShards::refuse);
  if (!merged) {
    return result.fail(k_exit_usage, merged.error());
  }
  run::RunReport report;
  report.scenario = &*scenario;
  describe_target(header, report);
  if (auto cache = add_cache_report(options, report); !cache) {
    return result.fail(k_exit_usage, cache.error());
  }
  report.run = std::move(merged->run);
  run::order_checks(*report.run, scenario->checks);
  report.merged_from = from;
  report.notes = std::move(merged->notes);
  report.interrupted = report.run->interrupted;
  run::add_run_diagnostics(report);
  report.diagnostics.insert(report.diagnostics.end(), merged->diagnostics.begin(), merged->diagnostics.end());
  run::judge(report);
  finish(report, *outputs, options.quiet, result);
  return result;
}

void add_merge_options(CLI::App& command, MergeOptions& options) {
  command.add_option("shards", options.shard_paths, "Shard results: llmd-bench run --shard I/N --out json=FILE, one per shard")
      ->type_name("SHARD.json")
      ->required();
  command.add_option("--scenario", options.scenario_path,
                     "The scenario file the shards ran (default: the path they recorded); must be the same bytes")
      ->type_name("FILE");
  command.add_option("--cache-before", options.cache_before,
                     "Prefix-cache snapshot before the sharded run (llmd-bench scrape --save-dir DIR)")
      ->type_name("DIR");
  command.add_option("--cache-after", options.cache_after, "Prefix-cache snapshot after it")->type_name("DIR");
  command.add_option("--out", options.outputs, "Write the merged result: json=FILE, junit=FILE or html=FILE (FILE - is stdout)")
      ->type_name("FORMAT=FILE")
      ->allow_extra_args(false);
  command.add_flag("--allow-missing-shards", options.allow_missing_shards,
                   "Merge even when some of the N shards are missing (a warning names them)");
  command.add_flag("-q,--quiet", options.quiet, "No text summary");
  command.footer(
      "Example:\n"
      "  llmd-bench run s.yaml --shard 0/2 --out json=shard-0.json   # on each load machine\n"
      "  llmd-bench run s.yaml --shard 1/2 --out json=shard-1.json\n"
      "  llmd-bench merge shard-0.json shard-1.json --out json=merged.json --out junit=merged.xml\n"
      "Exit codes as run: 0 pass, 1 a gate failed, 2 usage (shards of different scenarios, the same index twice, a "
      "missing shard, a changed scenario file), 3 an output could not be written.");
}

}  // namespace llmd::cli
