#pragma once
// Shared by the PrometheusSource tests: series for the fake Prometheus around a fixed marker, and
// sources with short waits.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "scrape/fake_prometheus.hpp"
#include "scrape/prometheus_source.hpp"

namespace llmd::scrape::testing {

inline constexpr char k_matcher[] = R"(namespace="llm-d",pod=~"decode-.*")";
// What the fake's time() answers: 2024-11-23T12:26:25.500Z.
inline constexpr std::int64_t k_marker_ms = 1732364785500;

// A series of pod `pod` (no pod label when "") with the labels of its scrape target
// (job="llm-d/decode", instance="10.0.0.5:8200", namespace="llm-d") plus `extra`; one point with
// `value` at each offset from the marker (ms), visible from the start.
inline FakeSeries series(const std::string& name, const std::string& pod, std::map<std::string, std::string> extra,
                         const std::string& value, const std::vector<std::int64_t>& offsets_ms = {-800, 200}) {
  FakeSeries result{name, std::move(extra), {}};
  result.labels.insert({{"job", "llm-d/decode"}, {"instance", "10.0.0.5:8200"}, {"namespace", "llm-d"}});
  if (!pod.empty()) {
    result.labels["pod"] = pod;
  }
  for (const std::int64_t offset : offsets_ms) {
    result.points.push_back({k_marker_ms + offset, value, 0});
  }
  return result;
}

// Options for `base_url` and `matcher`, waiting at most 2 x 100 ms + 200 ms for a pod.
inline PrometheusSourceOptions options_for(const std::string& base_url, const std::string& matcher = k_matcher) {
  PrometheusSourceOptions options;
  options.base_url = base_url;
  options.matcher = matcher;
  options.scrape_interval = std::chrono::milliseconds(100);
  options.wait_margin = std::chrono::milliseconds(200);
  return options;
}

inline PrometheusSource make_source(const PrometheusSourceOptions& options) {
  auto source = PrometheusSource::create(options);
  EXPECT_TRUE(source) << source.error();
  return std::move(*source);
}

}  // namespace llmd::scrape::testing
