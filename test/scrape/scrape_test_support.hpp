#pragma once
// Shared helpers for the scrape tests: expositions from the simulator's exporter and from
// fixtures, turned into snapshots.
#include <string>
#include <string_view>

#include "scrape/snapshot.hpp"
#include "sim/metrics_exporter.hpp"

namespace llmd::scrape::testing {

// Distinct, realistic values: queries 1234 / hits 567 tokens, 80 / 20 blocks, 7 stop + 2 length.
sim::PodMetrics sample_pod_metrics();

// The whole text of test/fixtures/metrics/<name>.
std::string read_fixture(std::string_view name);

// parse_text + extract_counters; a parse error fails the current test.
PodSnapshot snapshot_of_text(std::string_view text, std::string_view model_filter = "");

// A successful PodSnapshotResult for `pod` from exposition text.
PodSnapshotResult result_of_text(const std::string& pod, const std::string& text, std::string_view model_filter = "");

// A successful PodSnapshotResult for `pod` rendered by the simulator in `flavor`.
PodSnapshotResult result_of_sim(const std::string& pod, const sim::PodMetrics& metrics,
                                sim::MetricsFlavor flavor = sim::MetricsFlavor::v0_11);

// A failed PodSnapshotResult carrying `error`.
PodSnapshotResult failed_result(const std::string& pod, const std::string& error);

}  // namespace llmd::scrape::testing
