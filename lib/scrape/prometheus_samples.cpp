#include "scrape/prometheus_samples.hpp"

#include <algorithm>
#include <array>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "prom/text_writer.hpp"
#include "scrape/vllm_metric_names.hpp"

namespace llmd::scrape::prometheus {

namespace {

// Labels Prometheus (or kube-prometheus, Thanos) adds per scrape target: two series of one pod that
// differ only in these are the same counter scraped twice.
constexpr std::array<std::string_view, 6> k_target_labels = {"job",     "instance",   "endpoint",
                                                             "service", "prometheus", "prometheus_replica"};

Labels target_of(const Labels& labels) {
  Labels target;
  for (std::string_view name : k_target_labels) {
    if (const auto it = labels.find(std::string(name)); it != labels.end()) {
      target.insert(*it);
    }
  }
  return target;
}

Labels without_target(Labels labels) {
  for (std::string_view target : k_target_labels) {
    labels.erase(std::string(target));
  }
  return labels;
}

std::string_view type_of(std::string_view name) {
  std::string_view bare = name;
  for (std::string_view ns : k_metric_namespaces) {
    if (name.starts_with(ns)) {
      bare = name.substr(ns.size());
    }
  }
  for (const MetricNameRow& row : metric_name_rows()) {
    if (row.name == bare) {
      return row.role == MetricRole::hit_rate_gauge || row.role == MetricRole::cache_config ? "gauge" : "counter";
    }
  }
  return "gauge";  // the `_created` timestamps
}

std::string render_labels(const Labels& labels) {
  std::string out;
  for (const auto& [name, value] : labels) {
    out += fmt::format("{}{}=\"{}\"", out.empty() ? "" : ",", name, prom::escape_label_value(value));
  }
  return out;
}

}  // namespace

std::map<std::string, PodFreshness> pod_freshness(const std::vector<Series>& window,
                                                  const std::set<std::string>& expected, std::string_view pod_label,
                                                  std::int64_t marker_ms) {
  std::map<std::string, PodFreshness> pods;
  std::map<std::string, std::map<Labels, bool>> targets_fresh;  // pod -> target -> has a sample after the marker
  for (const std::string& pod : expected) {
    pods[pod];
  }
  for (const Series& series : window) {
    const auto pod = series.labels.find(std::string(pod_label));
    if (pod == series.labels.end() || series.points.empty()) {
      continue;
    }
    PodFreshness& state = pods[pod->second];
    const std::int64_t newest = series.points.back().unix_ms;
    state.newest_ms = std::max(state.newest_ms.value_or(newest), newest);
    bool& target_fresh = targets_fresh[pod->second][target_of(series.labels)];
    target_fresh = target_fresh || newest > marker_ms;
    const auto first = std::find_if(series.points.begin(), series.points.end(),
                                    [marker_ms](const Point& point) { return point.unix_ms > marker_ms; });
    if (first != series.points.end()) {
      state.samples.push_back(Sample{series.name, series.labels, first->value, first->unix_ms});
    }
  }
  for (auto& [pod, state] : pods) {
    const auto targets = targets_fresh.find(pod);
    state.fresh = targets != targets_fresh.end() &&
                  std::all_of(targets->second.begin(), targets->second.end(), [](const auto& t) { return t.second; });
    if (!state.fresh) {
      state.samples.clear();
    }
  }
  return pods;
}

std::set<std::string> pods_of(const std::vector<Series>& series, std::string_view pod_label) {
  std::set<std::string> pods;
  for (const Series& one : series) {
    if (const auto it = one.labels.find(std::string(pod_label)); it != one.labels.end()) {
      pods.insert(it->second);
    }
  }
  return pods;
}

std::string labels_seen(const std::vector<Series>& series) {
  std::set<std::string> names;
  for (const Series& one : series) {
    for (const auto& entry : one.labels) {
      names.insert(entry.first);
    }
  }
  return fmt::format("{}", fmt::join(names, ", "));
}

std::vector<std::string> metadata_names(std::string_view sample_name) {
  std::vector<std::string> names = {std::string(sample_name)};
  for (std::string_view suffix : {std::string_view("_total"), std::string_view("_created")}) {
    if (sample_name.ends_with(suffix) && sample_name.size() > suffix.size()) {
      names.emplace_back(sample_name.substr(0, sample_name.size() - suffix.size()));
    }
  }
  return names;
}

std::optional<std::string> help_for_series(const std::vector<MetadataEntry>& entries, const Labels& series_labels) {
  for (const MetadataEntry& entry : entries) {
    const bool matches = !entry.target.empty() &&
                         std::all_of(entry.target.begin(), entry.target.end(), [&](const auto& label) {
                           const auto it = series_labels.find(label.first);
                           return it != series_labels.end() && it->second == label.second;
                         });
    if (matches) {
      return entry.help;
    }
  }
  return std::nullopt;
}

std::set<std::string> distinct_helps(const std::vector<MetadataEntry>& entries) {
  std::set<std::string> helps;
  for (const MetadataEntry& entry : entries) {
    helps.insert(entry.help);
  }
  return helps;
}

util::Result<std::string> synthesize(std::vector<const Sample*> samples,
                                     const std::map<std::string, std::string>& help_by_name) {
  std::sort(samples.begin(), samples.end(), [](const Sample* a, const Sample* b) {
    return std::tie(a->name, a->labels) < std::tie(b->name, b->labels);
  });
  std::map<std::pair<std::string, Labels>, const Sample*> identities;
  std::string text;
  std::string_view family;
  for (const Sample* sample : samples) {
    const auto [it, fresh] = identities.emplace(std::make_pair(sample->name, without_target(sample->labels)), sample);
    if (!fresh) {
      return util::fail(fmt::format("series {}{{{}}} comes from two scrape targets ({{{}}} and {{{}}}): add a "
                                    "target label such as job=\"...\" to the matcher so each series counts once",
                                    sample->name, render_labels(it->first.second), render_labels(it->second->labels),
                                    render_labels(sample->labels)));
    }
    if (sample->name != family) {
      family = sample->name;
      const auto help = help_by_name.find(sample->name);
      if (help != help_by_name.end() && !help->second.empty()) {
        text += fmt::format("# HELP {} {}\n", family, prom::escape_help(help->second));
      }
      text += fmt::format("# TYPE {} {}\n", family, type_of(family));
    }
    prom::LabelPairs labels(sample->labels.begin(), sample->labels.end());
    prom::append_sample(text, sample->name, labels, sample->value);
  }
  return text;
}

}  // namespace llmd::scrape::prometheus
