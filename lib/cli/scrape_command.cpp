#include "cli/scrape_command.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/exit_codes.hpp"
#include "cli/run_outputs.hpp"
#include "run/cache_source.hpp"
#include "scenario/loader.hpp"
#include "scrape/cache_report.hpp"
#include "util/atomic_file.hpp"
#include "util/console.hpp"
#include "util/json_text.hpp"
#include "util/output_path.hpp"

namespace llmd::cli {

namespace {

using nlohmann::json;

template <class T>
json optional_json(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

// Cumulative hit rate since the pod started: hits / queries, else the V0 gauge (when not -1).
std::optional<double> cumulative_hit_rate(const scrape::PodSnapshot& s) {
  if (s.queries && s.hits && *s.queries > 0) {
    return *s.hits / *s.queries;
  }
  if (s.hit_rate_gauge && *s.hit_rate_gauge >= 0) {
    return *s.hit_rate_gauge;
  }
  return std::nullopt;
}

scrape::PodStatus status_of(const scrape::PodSnapshotResult& pod) {
  if (!pod.snapshot) {
    return scrape::PodStatus::scrape_failed;
  }
  const auto& s = *pod.snapshot;
  if (s.prefix_caching_enabled == false || (s.hit_rate_gauge && *s.hit_rate_gauge < 0)) {
    return scrape::PodStatus::caching_disabled;
  }
  if (s.flavor == scrape::CounterFlavor::none || (!s.queries && !s.hit_rate_gauge)) {
    return scrape::PodStatus::no_counters;
  }
  return scrape::PodStatus::ok;
}

std::string number(const std::optional<double>& value) {
  return value ? fmt::format("{:.0f}", *value) : std::string("-");
}

std::string caching(const scrape::PodSnapshot& s) {
  if (!s.prefix_caching_enabled) {
    return s.prefix_caching_label.empty() ? "-" : s.prefix_caching_label;
  }
  return *s.prefix_caching_enabled ? "on" : "off";
}

// The scenario's cache section, or the one the --url / --files flags describe.
util::Result<scenario::CacheSpec> cache_spec(const ScrapeOptions& options) {
  scenario::CacheSpec cache;
  if (!options.scenario_path.empty()) {
    auto loaded = scenario::load_scenario(options.scenario_path);
    if (!loaded) {
      return util::fail(loaded.error());
    }
    cache = loaded->cache;
  } else if (!options.urls.empty()) {
    cache.source = scenario::CacheSpec::Source::urls;
    cache.urls = options.urls;
  } else if (!options.files.empty()) {
    cache.source = scenario::CacheSpec::Source::files;
    cache.files = options.files;
  } else if (options.kube.namespace_name || options.kube.selector || options.kube.via || options.kube.context ||
             options.kube.kubeconfig || options.kube.container || !options.kube.ports.empty()) {
    cache.source = scenario::CacheSpec::Source::kubernetes;
  } else {
    return util::fail("no pods given: expected --url URL, --files PATH, --scenario FILE or Kubernetes flags (--namespace, --selector)");
  }
  if (auto applied = apply_kube_flags(cache, options.kube); !applied) {
    return util::fail(applied.error());
  }
  if (!options.model_filter.empty()) {
    cache.model_filter = options.model_filter;
  }
  return cache;
}

// Writes each pod's raw text as DIR/<pod>.prom; the error names the file.
util::Result<void> save_dumps(const std::vector<scrape::PodScrape>& scrapes, const std::filesystem::path& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return util::fail(fmt::format("--save-dir \"{}\": cannot create the folder: {}", dir.string(), error.message()));
  }
  std::set<std::string> used;
  for (const auto& scrape : scrapes) {
    if (!scrape.text) {
      continue;
    }
    std::string name = dump_file_name(scrape.pod);
    for (int n = 2; !used.insert(name).second; ++n) {  // two pods whose names differ only in replaced characters
      name = dump_file_name(fmt::format("{}-{}", scrape.pod, n));
    }
    if (auto written = util::write_file_atomically(dir / name, *scrape.text); !written) {
      return util::fail("--save-dir: " + written.error());
    }
  }
  return {};
}

// --save-dir before the scrape: the folder is created and accepts files; temporaries a killed
// scrape left there are removed (a note each on stderr). The error names the flag.
util::Result<void> prepare_save_dir(const std::string& dir) {
  if (auto ready = util::prepare_output_folder(dir); !ready) {
    return util::fail(fmt::format("--save-dir {}: {}", dir, ready.error()));
  }
  for (const auto& note : remove_stale_temporaries_in(dir)) {
    say_on_stderr("note: " + note);
  }
  return {};
}

}  // namespace

std::string dump_file_name(const std::string& pod) {
  std::string name = pod.empty() ? std::string("pod") : pod;
  for (char& ch : name) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte < 0x20 || byte == 0x7f || std::string_view(R"(/\:*?"<>|)").find(ch) != std::string_view::npos) {
      ch = '_';  // "10.0.0.5:8200" -> "10.0.0.5_8200": no ':' (artifact stores, Windows, scp host:path)
    }
  }
  return name + ".prom";
}

std::string render_scrape_table(const std::vector<scrape::PodSnapshotResult>& pods, const std::string& source) {
  std::string out = fmt::format("prefix cache counters since each pod started ({})\n", source);
  out += fmt::format("  {:<20} {:>12} {:>12} {:>9} {:>9} {:>7} {:>6} {:<7} {}\n", "pod", "queries", "hits", "hit rate",
                     "requests", "caching", "block", "unit", "status");
  for (const auto& pod : pods) {
    const auto status = scrape::to_string(status_of(pod));
    if (!pod.snapshot) {
      out += fmt::format("  {:<20} {:>12} {:>12} {:>9} {:>9} {:>7} {:>6} {:<7} {}\n", pod.pod, "-", "-", "-", "-", "-", "-",
                         "-", status);
      out += fmt::format("      error: {}\n", pod.snapshot.error());
      continue;
    }
    const auto& s = *pod.snapshot;
    const auto rate = cumulative_hit_rate(s);
    out += fmt::format("  {:<20} {:>12} {:>12} {:>9} {:>9} {:>7} {:>6} {:<7} {}\n", pod.pod, number(s.queries),
                       number(s.hits), rate ? fmt::format("{:.1f}%", *rate * 100) : "-", number(s.requests_success),
                       caching(s), s.block_size_tokens ? std::to_string(*s.block_size_tokens) : "-",
                       scrape::to_string(s.unit), status);
    out += fmt::format("      {} from {}\n", s.flavor_text, pod.source);
  }
  return out;
}

namespace {

// A counter of the snapshot when it counts in `unit`, else null.
json in_unit(const scrape::PodSnapshot& s, scrape::CounterUnit unit, const std::optional<double>& value) {
  return s.unit == unit ? optional_json(value) : json(nullptr);
}

}  // namespace

json scrape_to_json(const std::vector<scrape::PodSnapshotResult>& pods, const std::string& source) {
  json rows = json::array();
  for (const auto& pod : pods) {
    json row = {{"pod", pod.pod}, {"source", pod.source}, {"status", scrape::to_string(status_of(pod))},
                {"error", pod.snapshot ? json(nullptr) : json(pod.snapshot.error())}};
    if (pod.snapshot) {
      const auto& s = *pod.snapshot;
      row.update({{"flavor", scrape::to_string(s.flavor)},
                  {"flavor_text", s.flavor_text},
                  {"unit", scrape::to_string(s.unit)},
                  {"unit_verified", s.unit_verified},
                  // the unit as suffix, the other unit's pair null (as in the run's cache report)
                  {"queries_tokens", in_unit(s, scrape::CounterUnit::tokens, s.queries)},
                  {"hits_tokens", in_unit(s, scrape::CounterUnit::tokens, s.hits)},
                  {"queries_blocks", in_unit(s, scrape::CounterUnit::blocks, s.queries)},
                  {"hits_blocks", in_unit(s, scrape::CounterUnit::blocks, s.hits)},
                  {"hit_rate", optional_json(cumulative_hit_rate(s))},
                  {"hit_rate_gauge", optional_json(s.hit_rate_gauge)},
                  {"requests_success", optional_json(s.requests_success)},
                  {"prefix_caching_enabled", optional_json(s.prefix_caching_enabled)},
                  {"prefix_caching_label", s.prefix_caching_label},
                  {"block_size_tokens", optional_json(s.block_size_tokens)},
                  {"queries_metric", s.queries_metric},
                  {"hits_metric", s.hits_metric},
                  {"model_names_seen", s.model_names_seen}});
    }
    rows.push_back(std::move(row));
  }
  return {{"schema", "llmd-bench/scrape"}, {"version", 1}, {"source", source}, {"pods", std::move(rows)}};
}

CommandResult run_scrape_command(const ScrapeOptions& options) {
  CommandResult result;
  auto cache = cache_spec(options);
  if (!cache) {
    return result.fail(k_exit_usage, cache.error());
  }
  if (options.save_dir) {  // before pods are looked up or read: dumps that cannot be saved make the scrape moot
    if (auto ready = prepare_save_dir(*options.save_dir); !ready) {
      return result.fail(k_exit_usage, ready.error());
    }
  }
  auto made = run::make_cache_source(*cache, {}, nullptr, say_on_stderr);
  if (!made) {
    // Pod discovery failing (wrong namespace or selector, kubectl error) means the scrape could not
    // be carried out; everything else here is a usage error.
    return result.fail(cache->source == scenario::CacheSpec::Source::kubernetes ? k_exit_run_failed : k_exit_usage,
                       made.error());
  }
  if (*made == nullptr) {
    return result.fail(k_exit_usage,
                       fmt::format("scenario {} names no pods to scrape: expected cache.urls or cache.files (the "
                                   "embedded simulator's pods exist only during `run`)",
                                   options.scenario_path));
  }
  auto& source = **made;
  const auto scrapes = source.scrape_all();
  const auto pods = scrape::snapshot_pods(scrapes, cache->model_filter);
  const auto notes = source.notes();  // e.g. Prometheus: which scrape the numbers come from
  if (options.json) {
    auto document = scrape_to_json(pods, source.describe());
    document["notes"] = notes;
    util::print_stdout(util::dump_json(document, 2) + "\n");
  } else {
    util::print_stdout(render_scrape_table(pods, source.describe()));
    for (const auto& note : notes) {
      util::print_stdout(fmt::format("note: {}\n", note));
    }
  }
  if (std::none_of(pods.begin(), pods.end(), [](const auto& p) { return p.snapshot.has_value(); })) {
    result.fail(k_exit_run_failed, fmt::format("no pod could be scraped ({})", source.describe()));
  }
  if (options.save_dir) {
    if (auto saved = save_dumps(scrapes, *options.save_dir); !saved) {
      result.fail(k_exit_run_failed, saved.error());
    }
  }
  return result;
}

void add_scrape_options(CLI::App& command, ScrapeOptions& options) {
  auto* url = command.add_option("--url", options.urls, "Pod metrics URL to read (repeatable); the pod is named host:port")
                  ->type_name("URL")
                  ->allow_extra_args(false);
  auto* files = command.add_option("--files", options.files, "Saved <pod>.prom / <pod>.txt dumps, or folders of them")
                    ->type_name("PATH");
  auto* scenario = command.add_option("--scenario", options.scenario_path, "Scenario file whose cache section names the pods")
                       ->type_name("FILE");
  url->excludes(files)->excludes(scenario);
  files->excludes(scenario);
  command.add_option("--model", options.model_filter, "Only count series whose model_name is this (default: all)")
      ->type_name("NAME");
  command.add_flag("--json", options.json, "Print JSON (schema llmd-bench/scrape v1) instead of the table");
  command.add_option("--save-dir", options.save_dir, "Also save each pod's raw /metrics text as DIR/<pod>.prom (for `diff`)")
      ->type_name("DIR");
  add_kube_options(command, options.kube, /*with_restart=*/false);
}

}  // namespace llmd::cli
