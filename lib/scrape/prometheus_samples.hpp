#pragma once
// From Prometheus API results to one text exposition per pod: which pods Prometheus has scraped
// since a marker (in its own clock), which sample of each series to use, the HELP text of a series
// from metadata, and the synthesized text. Pure functions, no I/O; internal to lib/scrape (used by
// PrometheusSource, tested in prometheus_source_test.cpp).
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "scrape/prometheus_api.hpp"
#include "util/result.hpp"

namespace llmd::scrape::prometheus {

// One series' value as it goes into a pod's exposition.
struct Sample {
  std::string name;
  Labels labels;          // every label Prometheus returned, the pod and target labels included
  double value = 0;
  std::int64_t unix_ms = 0;  // when Prometheus scraped it (its clock)
};

// What the raw samples of one range query say about one pod.
struct PodFreshness {
  std::optional<std::int64_t> newest_ms;  // its newest sample (any series, any target); nullopt: none in the window
  bool fresh = false;            // every scrape target of the pod has a sample strictly after the marker
  std::vector<Sample> samples;   // fresh pods: each series' FIRST sample after the marker (series without one,
                                 // i.e. gone from the target, are left out as a direct scrape would not show them)
};

// Per pod (the value of `pod_label`), from `window` (a matrix result). A pod's scrape targets are
// told apart by the labels Prometheus adds per target (job, instance, endpoint, service,
// prometheus, prometheus_replica). Pods in `expected` with no sample in the window are listed,
// not fresh. Series without the pod label are skipped.
std::map<std::string, PodFreshness> pod_freshness(const std::vector<Series>& window,
                                                  const std::set<std::string>& expected, std::string_view pod_label,
                                                  std::int64_t marker_ms);

// The values of `pod_label` in `series` (sorted, unique).
std::set<std::string> pods_of(const std::vector<Series>& series, std::string_view pod_label);

// "block_size, engine, instance, job": every label name of `series`.
std::string labels_seen(const std::vector<Series>& series);

// The metadata family names that can describe samples named `sample_name`: the name itself, then
// the name without `_total` or `_created` (the family name of an OpenMetrics counter, which is
// what Prometheus keys metadata by when the target answered in OpenMetrics).
std::vector<std::string> metadata_names(std::string_view sample_name);

// The HELP of the entry whose target labels all appear, with the same values, on `series_labels`
// (that series' own scrape target); nullopt when no entry does.
std::optional<std::string> help_for_series(const std::vector<MetadataEntry>& entries, const Labels& series_labels);

// The distinct HELP texts of `entries` (sorted).
std::set<std::string> distinct_helps(const std::vector<MetadataEntry>& entries);

// One pod's exposition: per sample name a HELP line (from `help_by_name`; none when absent or "")
// and a TYPE line, then the samples with all their labels. Fails when a series comes from two scrape
// targets (it would count twice), naming both.
util::Result<std::string> synthesize(std::vector<const Sample*> samples,
                                     const std::map<std::string, std::string>& help_by_name);

}  // namespace llmd::scrape::prometheus
