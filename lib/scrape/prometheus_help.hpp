#pragma once
// HELP texts for PrometheusSource's synthesized expositions, from Prometheus' metadata API
// (prometheus_api.hpp); internal to lib/scrape. Per snapshot, each family name is asked once, and an
// endpoint that failed is not asked again.
//
// Order: /api/v1/targets/metadata?metric=NAME, the entry of the series' own scrape target (its
// target labels all on the series), under the sample name or the OpenMetrics family name (without
// `_total` / `_created`); else /api/v1/metadata?metric=NAME when Prometheus has exactly one HELP
// for the name over all targets; else none.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scrape/prometheus_api.hpp"
#include "scrape/prometheus_samples.hpp"
#include "util/result.hpp"

namespace llmd::scrape::prometheus {

class HelpTexts {
 public:
  explicit HelpTexts(Api& api) : m_api(api) {}

  // The HELP of each sample name of one pod's samples ("" when Prometheus has none, or several).
  // For the names whose unit only HELP tells (unit_told_by_help), problems() gets a line when a
  // HELP came from /api/v1/metadata rather than per target, or, when none of them has a HELP at
  // all (the unit is unverified then), why not.
  std::map<std::string, std::string> for_pod(const std::string& pod, const std::vector<Sample>& samples);

  // e.g. "pod decode-0: Prometheus gave no HELP text for vllm:gpu_prefix_cache_queries_total (...):
  // its unit is unverified, ...".
  std::vector<std::string> problems() && { return std::move(m_problems); }

 private:
  using Metadata = util::Result<std::vector<MetadataEntry>>;
  struct Endpoint {
    std::map<std::string, Metadata> by_name;
    std::optional<std::string> failed;  // the first error: not asked again
  };

  struct Found {
    std::string text;  // "" when none
    std::string note;  // "" when found per target; else where it came from, or why there is none
  };
  Found help(const std::string& pod, const Sample& sample);
  const Metadata& fetch(Endpoint& endpoint, const std::string& name, bool per_target);
  // The per-target HELP, or nullopt and why not.
  std::optional<std::string> target_help(const Sample& sample, std::string& cause);
  // The one HELP over all targets, or nullopt and why not.
  std::optional<std::string> global_help(const Sample& sample, std::string& cause);

  Api& m_api;
  Endpoint m_targets;
  Endpoint m_globals;
  std::vector<std::string> m_problems;
};

}  // namespace llmd::scrape::prometheus
