#pragma once
// `--out junit=FILE`: the run's gates as JUnit XML for CI test views (Jenkins, GitLab, Tekton
// dashboards). One <testsuite name="llmd-bench"> holding one <testcase> per item below. Names are
// stable (made of the scenario's text and the finding's kind, never of values or run order), so CI
// tools track each one across runs; the observed values are in each testcase's <system-out>.
//   - threshold      classname "llmd-bench.thresholds", name "threshold: METRIC SOURCE" (e.g.
//                    "threshold: http_req_duration p(95)<2s", "threshold: checks{check:status-200} rate>0.99");
//                    a failed one has <failure message="REASON">; a failed threshold of severity warn
//                    has <skipped message="WARN ...">: Jenkins' JUnit plugin and GitLab's test report
//                    list it as skipped (yellow / "skipped"), apart from passed and failed tests, and
//                    neither fails the build for it. <system-out>: observed, severity, result, reason.
//   - check          classname "llmd-bench.checks", name "check: NAME" as the scenario wrote it (e.g.
//                    "check: status-200"); checks are not gates, so never a <failure>; one evaluated
//                    on no request is <skipped>. <system-out>: passed, failed, rate.
//   - error finding  classname "llmd-bench.diagnostics", name "diagnostic: CODE"; classname
//                    "llmd-bench.cache", name "cache: POD" or "cache: fleet" (" (2)" for a second
//                    finding on the same pod); always a <failure>, its text the fix (only findings of
//                    severity error are listed)
//   - the run itself classname "llmd-bench.run", name "run"; an <error> when the run could not be
//                    carried out (one per error) or was interrupted; <system-out>: verdict and notes
// Every text and attribute is XML-escaped (& < > " ' and line breaks in attributes); characters
// XML 1.0 cannot carry (control characters other than tab, LF, CR) become U+FFFD.
#include <string>
#include <string_view>

#include "run/run_report.hpp"

namespace llmd::report {

// The report (already judged) as a JUnit XML document.
std::string render_junit(const run::RunReport& report);

// `text` escaped for use inside an XML attribute value or element text.
std::string xml_escape(std::string_view text);

}  // namespace llmd::report
