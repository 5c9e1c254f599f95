#pragma once
// `llmd-bench scrape`: reads every selected pod's prefix-cache counters once and prints them
// (cumulative since each pod started): a table, or --json. With --save-dir, each pod's raw
// /metrics text is also saved as DIR/<pod>.prom (atomically), for `llmd-bench diff` later.
//
// Pods come from exactly one of: --url URL (repeatable; pod = the URL's host:port), --files PATH
// (repeatable; <pod>.prom / <pod>.txt dumps or folders of them), --scenario FILE (its `cache:`
// section, through the same factory `run` uses: run/cache_source.hpp).
//
// Exit codes: 0 when at least one pod was read, 3 when none, 2 for usage errors.
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json_fwd.hpp>

#include "cli/kube_flags.hpp"
#include "cli/exit_codes.hpp"
#include "scrape/snapshot.hpp"

namespace llmd::cli {

struct ScrapeOptions {
  std::vector<std::string> urls;         // --url: pod metrics URLs
  std::vector<std::string> files;        // --files: saved dumps or folders of them
  std::string scenario_path;             // --scenario: a scenario whose cache section names the pods
  std::string model_filter;              // --model: only series with this model_name ("" = all)
  bool json = false;                     // --json: JSON on stdout instead of the table
  std::optional<std::string> save_dir;   // --save-dir: write DIR/<pod>.prom for each pod read
  KubeFlags kube;                        // --namespace, --selector, ...: discover pods with kubectl
};

void add_scrape_options(CLI::App& command, ScrapeOptions& options);
// Prints the table (or JSON) on stdout; errors are returned, cli::run prints them.
CommandResult run_scrape_command(const ScrapeOptions& options);

// The table `scrape` prints: one row per pod (pod, queries, hits, cumulative hit rate, requests,
// prefix caching on/off, block size, unit, status), then per pod its flavor and source, and the
// error of a pod that could not be read.
std::string render_scrape_table(const std::vector<scrape::PodSnapshotResult>& pods, const std::string& source);

// {"schema":"llmd-bench/scrape","version":1,"source":..,"pods":[{pod, source, status, error, flavor,
// flavor_text, unit, unit_verified, queries_tokens, hits_tokens, queries_blocks, hits_blocks,
// hit_rate, hit_rate_gauge, requests_success, prefix_caching_enabled, prefix_caching_label,
// block_size_tokens, queries_metric, hits_metric, model_names_seen}]}; unknown values and the
// counters of the unit the pod does not count in are null. run_scrape_command adds "notes": the source's
// notes() (MetricsSource).
nlohmann::json scrape_to_json(const std::vector<scrape::PodSnapshotResult>& pods, const std::string& source);

// The file name a pod's dump is saved under: "<pod>.prom", with '/', '\\', ':', '*', '?', '"', '<',
// '>', '|' and control characters replaced by '_' ("10.0.0.5:8200" -> "10.0.0.5_8200.prom"). Two
// pods that would get one name are saved as "<pod>.prom" and "<pod>-2.prom".
std::string dump_file_name(const std::string& pod);

}  // namespace llmd::cli
