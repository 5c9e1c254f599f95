#pragma once
// `--tekton-results DIR`: the run's headline numbers as Tekton result files. A Task step declares
// results `hit-rate`, `verdict` and `max-pod-share`; Tekton gives each the path
// /tekton/results/NAME ($(results.NAME.path)), so DIR is /tekton/results in a Task. Each file holds
// one value and no newline (Tekton compares results as exact strings in `when` expressions):
//   hit-rate       overall prefix-cache hit rate over the measured loop, a fraction with 4 decimals
//                  ("0.9349"), or "n/a" without cache counters
//   verdict        "pass" | "fail" | "error" | "interrupted" (report::to_string(Verdict))
//   max-pod-share  the largest pod's share of prefix-cache queries, same format ("1.0000" | "n/a")
#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "report/run_report.hpp"
#include "util/result.hpp"

namespace llmd::report {

// The result names, exactly as the Task in scripts/k8s/tekton-task.yaml declares them.
inline constexpr std::array<std::string_view, 3> k_tekton_result_names = {"hit-rate", "verdict", "max-pod-share"};

// {name, value} for each of k_tekton_result_names, in that order.
std::vector<std::pair<std::string, std::string>> tekton_results(const RunReport& report);

// Before the run: creates DIR when missing and checks each DIR/NAME can be written
// (util::check_output_writable). The error names the folder or the file.
util::Result<void> check_tekton_results(const std::filesystem::path& dir);

// Writes each result into DIR/NAME atomically (creating DIR when missing). The error names the file.
util::Result<void> write_tekton_results(const RunReport& report, const std::filesystem::path& dir);

}  // namespace llmd::report
