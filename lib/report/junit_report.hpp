#pragma once
// `--out junit=FILE`: the run's gates as JUnit XML for CI test views (Jenkins, GitLab, Tekton
// dashboards). One <testsuite name="llmd-bench"> holding one <testcase> per
//   - threshold      classname "llmd-bench.thresholds", name "METRIC SOURCE" (e.g. "cache_hit_rate >=0.90");
//                    a failed one has <failure message="REASON">
//   - check          classname "llmd-bench.checks", name the check (e.g. "status_200")
//   - cache error    classname "llmd-bench.cache", name "POD: MESSAGE" (or "fleet: MESSAGE"); always a
//                    <failure>, its text the fix (only diagnostics of severity error are listed)
//   - the run itself classname "llmd-bench.run", name "run"; an <error> when the run could not be
//                    carried out (one per error) or was interrupted
// Every text and attribute is XML-escaped (& < > " ' and line breaks in attributes); characters
// XML 1.0 cannot carry (control characters other than tab, LF, CR) become U+FFFD.
#include <string>
#include <string_view>

#include "report/run_report.hpp"

namespace llmd::report {

// The report (already judged) as a JUnit XML document.
std::string render_junit(const RunReport& report);

// `text` escaped for use inside an XML attribute value or element text.
std::string xml_escape(std::string_view text);

}  // namespace llmd::report
