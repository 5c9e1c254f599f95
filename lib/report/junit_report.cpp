#include "report/junit_report.hpp"

#include <map>

#include <fmt/format.h>

#include "util/json_text.hpp"

namespace llmd::report {

namespace {

struct TestCase {
  std::string classname;
  std::string name;          // stable: from the scenario and the finding's kind, never from values
  std::string outcome_kind;  // "" (passed), "failure", "error" or "skipped"
  std::string message;       // outcome element's message attribute
  std::string detail;        // outcome element's text ("" for skipped)
  std::string system_out;    // the observed values, one "key: value" line each
};

std::string observed_text(const run::ThresholdOutcome& t) {
  const auto* info = scenario::find_metric(t.threshold.metric);
  return t.result.observed && info != nullptr ? scenario::format_metric_value(info->kind, *t.result.observed)
                                              : std::string("no data");
}

// Name "threshold: METRIC SOURCE"; a failed gate is a <failure>, a failed warn threshold <skipped>
// (CI views show it apart from passed and failed tests, and it does not fail the build).
std::vector<TestCase> threshold_cases(const run::RunReport& report) {
  std::vector<TestCase> cases;
  for (const auto& t : report.thresholds) {
    const std::string label = scenario::label(t.threshold);
    TestCase c{"llmd-bench.thresholds", "threshold: " + label, "", "", "", ""};
    c.system_out = fmt::format("observed: {}\nseverity: {}\nresult: {}\nreason: {}\n", observed_text(t),
                               scenario::to_string(t.threshold.severity),
                               t.result.passed ? "pass" : t.warning() ? "warn" : "fail", t.result.reason);
    if (t.warning()) {
      c.outcome_kind = "skipped";
      c.message = fmt::format("WARN (severity warn, not a gate): {}", t.result.reason);
    } else if (!t.result.passed) {
      c.outcome_kind = "failure";
      c.message = t.result.reason;
      c.detail = fmt::format("threshold {}: {}", label, t.result.reason);
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

// Name "check: NAME" (as the scenario wrote it). Checks are not gates: never a <failure>; a check
// evaluated on no request is <skipped>. The counts are in <system-out>.
std::vector<TestCase> check_cases(const run::RunReport& report) {
  std::vector<TestCase> cases;
  for (const auto& check : report.checks) {
    TestCase c{"llmd-bench.checks", "check: " + check.name, "", "", "", ""};
    c.system_out = fmt::format("passed: {}\nfailed: {}\nrate: {}\n", check.passed, check.failed,
                               check.rate() ? fmt::format("{:.4g}", *check.rate()) : std::string("no data"));
    if (check.no_data()) {
      c.outcome_kind = "skipped";
      c.message = "no data: no request completed, the check was never evaluated";
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

// Error findings: the run's diagnostics ("diagnostic: CODE") and the cache report's ("cache: POD",
// "cache: fleet"; " (2)", " (3)" for further findings on the same pod, in the report's order).
std::vector<TestCase> finding_cases(const run::RunReport& report) {
  std::vector<TestCase> cases;
  for (const auto& d : report.diagnostics) {
    if (d.severity == scrape::Severity::error) {
      cases.push_back({"llmd-bench.diagnostics", "diagnostic: " + d.code, "failure", d.message,
                       d.fix.empty() ? d.message : "fix: " + d.fix, d.message + "\n"});
    }
  }
  if (!report.cache) {
    return cases;
  }
  std::map<std::string, int> seen;
  for (const auto& d : report.cache->diagnostics) {
    if (d.severity != scrape::Severity::error) {
      continue;
    }
    const std::string pod = d.pod ? *d.pod : std::string("fleet");
    const int n = ++seen[pod];
    cases.push_back({"llmd-bench.cache", n == 1 ? "cache: " + pod : fmt::format("cache: {} ({})", pod, n), "failure",
                     d.message, d.fix.empty() ? d.message : "fix: " + d.fix, d.message + "\n"});
  }
  return cases;
}

TestCase run_case(const run::RunReport& report) {
  TestCase c{"llmd-bench.run", "run", "", "", "", fmt::format("verdict: {}\n", to_string(report.verdict))};
  if (!report.errors.empty()) {
    c.outcome_kind = "error";
    c.message = report.errors.front();
    for (const auto& error : report.errors) {
      c.detail += error + "\n";
    }
  } else if (report.interrupted) {
    c.outcome_kind = "error";
    c.message = "interrupted: partial results, gates not judged";
    c.detail = c.message;
  }
  for (const auto& note : report.notes) {
    c.system_out += "note: " + note + "\n";
  }
  return c;
}

void append_case(std::string& out, const TestCase& c) {
  out += fmt::format("  <testcase classname=\"{}\" name=\"{}\">\n", xml_escape(c.classname), xml_escape(c.name));
  if (c.outcome_kind == "skipped") {
    out += fmt::format("    <skipped message=\"{}\"/>\n", xml_escape(c.message));
  } else if (!c.outcome_kind.empty()) {
    out += fmt::format("    <{} message=\"{}\" type=\"{}\">{}</{}>\n", c.outcome_kind, xml_escape(c.message),
                       c.classname.substr(c.classname.find('.') + 1), xml_escape(c.detail), c.outcome_kind);
  }
  if (!c.system_out.empty()) {
    out += fmt::format("    <system-out>{}</system-out>\n", xml_escape(c.system_out));
  }
  out += "  </testcase>\n";
}

}  // namespace

std::string xml_escape(std::string_view raw) {
  const std::string text = util::valid_utf8(raw);  // XML must be well-formed UTF-8
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      case '\t': out += "&#9;"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
          out += "\xEF\xBF\xBD";  // U+FFFD: XML 1.0 cannot carry this character at all
        } else {
          out += ch;
        }
    }
  }
  return out;
}

std::string render_junit(const run::RunReport& report) {
  std::vector<TestCase> cases = threshold_cases(report);
  for (auto* more : {&check_cases, &finding_cases}) {
    auto extra = more(report);
    cases.insert(cases.end(), extra.begin(), extra.end());
  }
  cases.push_back(run_case(report));
  std::size_t failures = 0;
  std::size_t errors = 0;
  std::size_t skipped = 0;
  for (const auto& c : cases) {
    failures += c.outcome_kind == "failure" ? 1 : 0;
    errors += c.outcome_kind == "error" ? 1 : 0;
    skipped += c.outcome_kind == "skipped" ? 1 : 0;
  }
  double seconds = 0;
  if (report.run) {
    seconds = std::chrono::duration<double>(report.run->ended_at - report.run->started_at).count();
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuite name=\"llmd-bench\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\">\n",
                     cases.size(), failures, errors, skipped, seconds);
  out += "  <properties>\n";
  const std::string scenario = report.scenario != nullptr ? report.scenario->name : std::string();
  for (const auto& [name, value] : {std::pair<std::string, std::string>{"scenario", scenario},
                                    {"target", report.target_url},
                                    {"verdict", std::string(to_string(report.verdict))}}) {
    out += fmt::format("    <property name=\"{}\" value=\"{}\"/>\n", name, xml_escape(value));
  }
  out += "  </properties>\n";
  for (const auto& c : cases) {
    append_case(out, c);
  }
  out += "</testsuite>\n";
  return out;
}

}  // namespace llmd::report
