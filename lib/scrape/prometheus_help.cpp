#include "scrape/prometheus_help.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "scrape/vllm_metric_names.hpp"

namespace llmd::scrape::prometheus {

namespace {

// "its target {job="llm-d/decode",instance="10.0.0.5:8200"}".
std::string render_target(const Labels& labels) {
  std::vector<std::string> parts;
  for (const char* name : {"job", "instance"}) {
    if (const auto it = labels.find(name); it != labels.end()) {
      parts.push_back(fmt::format("{}=\"{}\"", name, it->second));
    }
  }
  return parts.empty() ? "its target" : fmt::format("its target {{{}}}", fmt::join(parts, ","));
}

}  // namespace

const HelpTexts::Metadata& HelpTexts::fetch(Endpoint& endpoint, const std::string& name, bool per_target) {
  if (const auto it = endpoint.by_name.find(name); it != endpoint.by_name.end()) {
    return it->second;
  }
  Metadata entries = endpoint.failed ? Metadata(util::fail(*endpoint.failed))
                                     : (per_target ? m_api.target_metadata(name) : m_api.metric_metadata(name));
  if (!entries && !endpoint.failed) {
    endpoint.failed = entries.error();
  }
  return endpoint.by_name.emplace(name, std::move(entries)).first->second;
}

std::optional<std::string> HelpTexts::target_help(const Sample& sample, std::string& cause) {
  for (const std::string& name : metadata_names(sample.name)) {
    const Metadata& entries = fetch(m_targets, name, true);
    if (!entries) {
      cause = "/api/v1/targets/metadata failed: " + entries.error();
      return std::nullopt;
    }
    if (auto help = help_for_series(*entries, sample.labels)) {
      return help;
    }
  }
  cause = "/api/v1/targets/metadata has no entry for " + render_target(sample.labels);
  return std::nullopt;
}

std::optional<std::string> HelpTexts::global_help(const Sample& sample, std::string& cause) {
  std::set<std::string> helps;
  for (const std::string& name : metadata_names(sample.name)) {
    const Metadata& entries = fetch(m_globals, name, false);
    if (!entries) {
      cause = "/api/v1/metadata failed: " + entries.error();
      return std::nullopt;
    }
    helps.merge(distinct_helps(*entries));
  }
  if (helps.size() == 1) {
    return *helps.begin();
  }
  cause = helps.empty() ? "/api/v1/metadata has none" : fmt::format("/api/v1/metadata has {} different ones", helps.size());
  return std::nullopt;
}

HelpTexts::Found HelpTexts::help(const std::string& pod, const Sample& sample) {
  std::string target_cause;
  if (auto help = target_help(sample, target_cause)) {
    return {*help, ""};
  }
  std::string global_cause;
  if (auto help = global_help(sample, global_cause)) {
    return {*help, fmt::format("pod {}: the HELP text of {} comes from /api/v1/metadata, the only one Prometheus has "
                               "for this name ({})",
                               pod, sample.name, target_cause)};
  }
  return {"", fmt::format("pod {}: Prometheus gave no HELP text for {} ({}; {}): its unit is unverified, read as "
                          "tokens, but vLLM V1 <= 0.8.5 counted blocks under this name",
                          pod, sample.name, target_cause, global_cause)};
}

std::map<std::string, std::string> HelpTexts::for_pod(const std::string& pod, const std::vector<Sample>& samples) {
  std::map<std::string, std::string> by_name;
  std::vector<Found> unit_helps;  // of the names whose HELP tells the unit
  for (const Sample& sample : samples) {
    if (by_name.contains(sample.name)) {
      continue;
    }
    Found found = help(pod, sample);
    by_name[sample.name] = found.text;
    if (unit_told_by_help(sample.name)) {
      unit_helps.push_back(std::move(found));
    }
  }
  const bool any = std::any_of(unit_helps.begin(), unit_helps.end(), [](const Found& f) { return !f.text.empty(); });
  for (Found& found : unit_helps) {
    if (!found.note.empty() && (!any || !found.text.empty())) {  // a missing HELP matters only when all are
      m_problems.push_back(std::move(found.note));
    }
  }
  return by_name;
}

}  // namespace llmd::scrape::prometheus
