#include "report/tekton_results.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/atomic_file.hpp"
#include "util/output_path.hpp"
#include "util/redact.hpp"
#include "util/url_authority.hpp"

namespace llmd::report {

namespace {

constexpr std::string_view k_not_available = "n/a";

std::string fraction(const std::optional<double>& value) {
  return value ? fmt::format("{:.4f}", *value) : std::string(k_not_available);
}

std::string seconds(const std::optional<double>& value) {
  return value ? fmt::format("{:.6f}", *value) : std::string(k_not_available);
}

util::Result<void> create_folder(const std::filesystem::path& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return util::fail(fmt::format("cannot create Tekton results folder \"{}\": {}", dir.string(), error.message()));
  }
  return {};
}

// One line, redacted, at most k_tekton_reason_max_bytes (cut on a UTF-8 boundary, "..." appended).
std::string short_reason(std::string_view text) {
  std::string line = util::redact(text);
  for (char& ch : line) {
    if (ch == '\n' || ch == '\r' || ch == '\t') {
      ch = ' ';
    }
  }
  if (line.size() <= k_tekton_reason_max_bytes) {
    return line;
  }
  std::size_t cut = k_tekton_reason_max_bytes - 3;
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0u) == 0x80u) {
    --cut;  // never split a UTF-8 sequence
  }
  return line.substr(0, cut) + "...";
}

std::string reason_of(const run::RunReport& report) {
  if (!report.errors.empty()) {
    return short_reason(report.errors.front());
  }
  switch (report.verdict) {
    case run::Verdict::pass: {
      const auto warnings = std::count_if(report.thresholds.begin(), report.thresholds.end(),
                                          [](const run::ThresholdOutcome& t) { return t.warning(); });
      return warnings == 0 ? "every gate passed" : fmt::format("every gate passed; {} warning(s)", warnings);
    }
    case run::Verdict::interrupted: return "interrupted (Ctrl-C / SIGTERM): partial results";
    case run::Verdict::error: return "the run could not be carried out";
    case run::Verdict::not_judged:
      return report.shard ? "shard " + engine::to_string(report.shard->slice) + ": judged by llmd-bench merge"
                          : std::string("not judged (--no-gates)");
    case run::Verdict::fail: break;
  }
  std::vector<std::string> failed;
  for (const auto& t : report.thresholds) {
    if (t.gate_failed()) {  // a failed severity-warn threshold did not fail the run
      failed.push_back(scenario::label(t.threshold));
    }
  }
  for (const auto& finding : report.diagnostics) {
    if (finding.severity == scrape::Severity::error) {
      failed.push_back(finding.code);
    }
  }
  if (failed.empty()) {
    return "gate failed";
  }
  return short_reason(fmt::format("gate failed: {}", fmt::join(failed, ", ")));
}

util::Result<void> write_all(const std::filesystem::path& dir, const std::vector<std::pair<std::string, std::string>>& results) {
  if (auto created = create_folder(dir); !created) {
    return created;
  }
  for (const auto& [name, value] : results) {
    if (auto written = util::write_file_atomically(dir / name, value); !written) {
      return util::fail(fmt::format("Tekton result \"{}\": {}", (dir / name).string(), written.error()));
    }
  }
  return {};
}

}  // namespace

std::string target_label(bool embedded_sim, const std::string& url) {
  if (embedded_sim) {
    return "simulator";
  }
  std::string label = url.substr(0, url.find_first_of("?#"));
  const util::UrlAuthority a = util::find_authority(label);
  label.erase(a.begin, a.host_begin - a.begin);  // credentials are never part of a result
  return util::redact(label);
}

std::vector<std::pair<std::string, std::string>> tekton_results(const run::RunReport& report) {
  std::optional<double> hit_rate;
  std::optional<double> max_pod_share;
  if (report.cache) {
    hit_rate = report.cache->totals.hit_rate;
    max_pod_share = report.cache->totals.max_pod_share;
  }
  std::optional<double> ttft_p95;
  std::optional<double> failed_rate;
  if (report.run) {
    if (auto p95 = report.run->total.histograms.ttft_ns.percentile(95)) {
      ttft_p95 = *p95 * 1e-9;
    }
    failed_rate = engine::http_req_failed_rate(report.run->total);
  }
  const auto& names = k_tekton_result_names;
  return {{std::string(names[0]), fraction(hit_rate)},
          {std::string(names[1]), std::string(to_string(report.verdict))},
          {std::string(names[2]), fraction(max_pod_share)},
          {std::string(names[3]), seconds(ttft_p95)},
          {std::string(names[4]), fraction(failed_rate)},
          {std::string(names[5]), target_label(report.embedded_sim, report.target_url)},
          {std::string(names[6]), reason_of(report)}};
}

util::Result<void> check_tekton_results(const std::filesystem::path& dir) {
  if (auto created = create_folder(dir); !created) {
    return created;
  }
  for (const auto& name : k_tekton_result_names) {
    if (auto writable = util::check_output_writable(dir / name); !writable) {
      return util::fail(fmt::format("Tekton result \"{}\": {}", (dir / name).string(), writable.error()));
    }
  }
  return {};
}

util::Result<void> write_tekton_results(const run::RunReport& report, const std::filesystem::path& dir) {
  return write_all(dir, tekton_results(report));
}

util::Result<void> write_tekton_error_results(const std::filesystem::path& dir, const std::string& reason,
                                              const std::string& target) {
  std::vector<std::pair<std::string, std::string>> results;
  for (const auto& name : k_tekton_result_names) {
    results.emplace_back(std::string(name), std::string(k_not_available));
  }
  results[1].second = std::string(to_string(run::Verdict::error));
  results[5].second = target;
  results[6].second = short_reason(reason);
  return write_all(dir, results);
}

}  // namespace llmd::report
