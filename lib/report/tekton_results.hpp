#pragma once
// `--tekton-results DIR`: the run's headline numbers as Tekton result files. A Task step declares
// the results of k_tekton_result_names; Tekton gives each the path /tekton/results/NAME
// ($(results.NAME.path)), so DIR is /tekton/results in a Task. Each file holds one value and no
// newline (Tekton compares results as exact strings in `when` expressions):
//   hit-rate              overall prefix-cache hit rate over the measured loop, a fraction with 4
//                         decimals ("0.9349"), or "n/a" without cache counters
//   verdict               "pass" | "fail" | "error" | "interrupted" (run::to_string(Verdict))
//   max-pod-share         the largest pod's share of finished requests, same format ("1.0000" | "n/a")
//   ttft-p95-seconds      p95 time to first token over the measured phases, seconds with 6 decimals
//                         ("0.006570"), or "n/a" when no request succeeded
//   http-req-failed-rate  failed / completed requests of the measured phases, 4 decimals, or "n/a"
//   target                "simulator" (the embedded one) or the target URL without credentials,
//                         query or fragment (target_label)
//   reason                why the verdict is what it is, one short line: the first error (redacted,
//                         at most k_tekton_reason_max_bytes), "gate failed: ..." or "every gate passed"
// Every file is written on every exit of `run` after its flags were parsed, a usage error (exit 2)
// included: write_tekton_error_results(), so a Pipeline's `finally` task always has a verdict.
#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "run/run_report.hpp"
#include "util/result.hpp"

namespace llmd::report {

// The result names, exactly as the Task in scripts/k8s/tekton-task.yaml declares them.
inline constexpr std::array<std::string_view, 7> k_tekton_result_names = {
    "hit-rate", "verdict", "max-pod-share", "ttft-p95-seconds", "http-req-failed-rate", "target", "reason"};

// Tekton keeps all results of a step in 4 KiB by default: the reason stays well inside it.
inline constexpr std::size_t k_tekton_reason_max_bytes = 300;

// "simulator" for the embedded simulator, else `url` without userinfo, query and fragment
// ("http://u:p@gw:80/v1?key=x" -> "http://gw:80/v1"): what results may carry about the target.
std::string target_label(bool embedded_sim, const std::string& url);

// {name, value} for each of k_tekton_result_names, in that order.
std::vector<std::pair<std::string, std::string>> tekton_results(const run::RunReport& report);

// Before the run: creates DIR when missing and checks each DIR/NAME can be written
// (util::check_output_writable). The error names the folder or the file.
util::Result<void> check_tekton_results(const std::filesystem::path& dir);

// Writes each result into DIR/NAME atomically (creating DIR when missing). The error names the file.
util::Result<void> write_tekton_results(const run::RunReport& report, const std::filesystem::path& dir);

// For a run that ended before it could make a report (a usage error, exit 2): verdict "error",
// `reason` (redacted, shortened), `target` as given, every number "n/a".
util::Result<void> write_tekton_error_results(const std::filesystem::path& dir, const std::string& reason,
                                              const std::string& target);

}  // namespace llmd::report
