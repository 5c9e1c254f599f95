#include "report/junit_report.hpp"

#include <fmt/format.h>

#include "util/json_text.hpp"

namespace llmd::report {

namespace {

struct TestCase {
  std::string classname;
  std::string name;
  std::string failure_kind;  // "" (passed), "failure" or "error"
  std::string message;       // failure/error message attribute
  std::string detail;        // failure/error element text
};

std::vector<TestCase> threshold_cases(const RunReport& report) {
  std::vector<TestCase> cases;
  for (const auto& t : report.thresholds) {
    TestCase c{"llmd-bench.thresholds", t.threshold.metric + " " + t.threshold.source, "", "", ""};
    if (!t.result.passed) {
      c.failure_kind = "failure";
      c.message = t.result.reason;
      c.detail = fmt::format("threshold {}: {} ({})", t.threshold.metric, t.threshold.source, t.result.reason);
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

std::vector<TestCase> check_cases(const RunReport& report) {
  std::vector<TestCase> cases;
  for (const auto& check : report.checks) {
    TestCase c{"llmd-bench.checks", std::string(engine::to_string(check.check)), "", "", ""};
    if (check.no_data()) {
      c.failure_kind = "failure";
      c.message = "no data: no request completed, the check was never evaluated";
      c.detail = c.message;
    } else if (check.failed > 0) {
      c.failure_kind = "failure";
      c.message = fmt::format("{} of {} requests failed the check", check.failed, check.passed + check.failed);
      c.detail = c.message;
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

// Error findings: the run's diagnostics and the cache report's.
std::vector<TestCase> cache_cases(const RunReport& report) {
  std::vector<TestCase> cases;
  for (const auto& d : report.diagnostics) {
    if (d.severity == scrape::Severity::error) {
      cases.push_back({"llmd-bench.diagnostics", d.code + ": " + d.message, "failure", d.message,
                       d.fix.empty() ? d.message : "fix: " + d.fix});
    }
  }
  if (!report.cache) {
    return cases;
  }
  for (const auto& d : report.cache->diagnostics) {
    if (d.severity != scrape::Severity::error) {
      continue;
    }
    cases.push_back({"llmd-bench.cache", (d.pod ? *d.pod : std::string("fleet")) + ": " + d.message, "failure", d.message,
                     d.fix.empty() ? d.message : "fix: " + d.fix});
  }
  return cases;
}

TestCase run_case(const RunReport& report) {
  TestCase c{"llmd-bench.run", "run", "", "", ""};
  if (!report.errors.empty()) {
    c.failure_kind = "error";
    c.message = report.errors.front();
    for (const auto& error : report.errors) {
      c.detail += error + "\n";
    }
  } else if (report.interrupted) {
    c.failure_kind = "error";
    c.message = "interrupted: partial results, gates not judged";
    c.detail = c.message;
  }
  return c;
}

void append_case(std::string& out, const TestCase& c) {
  out += fmt::format("  <testcase classname=\"{}\" name=\"{}\"", xml_escape(c.classname), xml_escape(c.name));
  if (c.failure_kind.empty()) {
    out += "/>\n";
    return;
  }
  out += fmt::format(">\n    <{} message=\"{}\" type=\"{}\">{}</{}>\n  </testcase>\n", c.failure_kind, xml_escape(c.message),
                     c.classname.substr(c.classname.find('.') + 1), xml_escape(c.detail), c.failure_kind);
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

std::string render_junit(const RunReport& report) {
  std::vector<TestCase> cases = threshold_cases(report);
  for (auto* more : {&check_cases, &cache_cases}) {
    auto extra = more(report);
    cases.insert(cases.end(), extra.begin(), extra.end());
  }
  cases.push_back(run_case(report));
  std::size_t failures = 0;
  std::size_t errors = 0;
  for (const auto& c : cases) {
    failures += c.failure_kind == "failure" ? 1 : 0;
    errors += c.failure_kind == "error" ? 1 : 0;
  }
  double seconds = 0;
  if (report.run) {
    seconds = std::chrono::duration<double>(report.run->ended_at - report.run->started_at).count();
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuite name=\"llmd-bench\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{:.3f}\">\n",
                     cases.size(), failures, errors, seconds);
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
