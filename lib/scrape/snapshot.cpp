#include "scrape/snapshot.hpp"

#include <algorithm>
#include <map>
#include <cctype>
#include <charconv>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "prom/text_writer.hpp"

namespace llmd::scrape {

namespace {

constexpr std::string_view k_process_start = "process_start_time_seconds";

// Every series of one sample name, summed after the model filter.
struct SeriesSum {
  bool present = false;         // at least one sample has the name (filtered or not)
  std::optional<double> value;  // sum over the samples that pass the filter; nullopt when none does
  prom::SeriesMap series;       // the samples that pass the filter, by label set
  std::vector<std::string> duplicates;  // `name{labels}` of label sets seen twice
};

std::string created_name(std::string_view total_name) {
  constexpr std::string_view total = "_total";
  if (!total_name.ends_with(total)) {
    return {};
  }
  return std::string(total_name.substr(0, total_name.size() - total.size())) + "_created";
}

class Reader {
 public:
  Reader(const prom::Exposition& exposition, std::string_view model_filter)
      : m_exposition(exposition), m_model_filter(model_filter) {}

  void choose_namespace() {
    for (std::string_view ns : k_metric_namespaces) {
      for (const MetricNameRow& row : metric_name_rows()) {
        if (!m_exposition.samples(std::string(ns) + std::string(row.name)).empty()) {
          m_namespace = ns;
          return;
        }
      }
    }
  }

  std::string full_name(const MetricNameRow& row) const { return std::string(m_namespace) + std::string(row.name); }
  std::string_view metric_namespace() const { return m_namespace; }

  bool passes_filter(const prom::Sample& sample) const {
    const std::string* model = sample.label("model_name");
    return model == nullptr || m_model_filter.empty() || *model == m_model_filter;
  }

  // Sum over the series of `row`'s name, and the series themselves with their `_created` (same
  // labels). `seen` collects model_name values before filtering.
  SeriesSum sum(const MetricNameRow& row, std::set<std::string>* seen = nullptr) const {
    SeriesSum result;
    const std::string name = full_name(row);
    std::map<std::string, double> created;
    if (const std::string created_samples = created_name(name); !created_samples.empty()) {
      for (const prom::Sample* sample : m_exposition.samples(created_samples)) {
        created.emplace(series_key(*sample), sample->value);
      }
    }
    for (const prom::Sample* sample : m_exposition.samples(name)) {
      result.present = true;
      const std::string* model = sample->label("model_name");
      if (model != nullptr && seen != nullptr) {
        seen->insert(*model);
      }
      if (!passes_filter(*sample)) {
        continue;
      }
      result.value = result.value.value_or(0.0) + sample->value;
      std::string key = series_key(*sample);
      const auto it = created.find(key);
      const std::optional<double> created_at = it != created.end() ? std::optional<double>(it->second) : std::nullopt;
      if (!result.series.emplace(key, prom::SeriesPoint{sample->value, created_at}).second) {
        result.duplicates.push_back(fmt::format("{}{{{}}}", name, key));
      }
    }
    return result;
  }

  SeriesSum sum(MetricRole role, NameGeneration generation, std::set<std::string>* seen = nullptr) const {
    const MetricNameRow* row = find_row(role, generation);
    return row == nullptr ? SeriesSum{} : sum(*row, seen);
  }

  // The HELP text of the family holding samples named `sample_name` ("" when undeclared).
  std::string_view help_of(const std::string& sample_name) const {
    for (const prom::Family& family : m_exposition.families) {
      for (const prom::Sample& sample : family.samples) {
        if (sample.name == sample_name) {
          return family.help;
        }
      }
    }
    return {};
  }

  // Largest value of the samples named `name` that pass the filter.
  std::optional<double> max_of(const std::string& name) const {
    std::optional<double> result;
    for (const prom::Sample* sample : m_exposition.samples(name)) {
      const std::string* model = sample->label("model_name");
      if (model != nullptr && !m_model_filter.empty() && *model != m_model_filter) {
        continue;
      }
      result = std::max(result.value_or(sample->value), sample->value);
    }
    return result;
  }

  const prom::Exposition& exposition() const { return m_exposition; }

 private:
  const prom::Exposition& m_exposition;
  std::string_view m_model_filter;
  std::string_view m_namespace = k_metric_namespaces[0];
};

bool mentions_blocks(std::string_view help) {
  std::string lower(help);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower.find("blocks") != std::string::npos;  // "... number of queried blocks." (0.7.3-0.8.5)
}

// The first generation (in preference order) exporting `role`: current, deprecated, inference-sim.
constexpr NameGeneration k_counter_generations[] = {NameGeneration::v1_current, NameGeneration::v1_deprecated,
                                                    NameGeneration::inference_sim};

struct Chosen {
  NameGeneration generation = NameGeneration::all_versions;  // all_versions: none found
  SeriesSum sum;
  std::string name;
};

Chosen choose_counter(const Reader& reader, MetricRole role, std::set<std::string>& seen) {
  for (NameGeneration generation : k_counter_generations) {
    const MetricNameRow* row = find_row(role, generation);
    if (row == nullptr) {
      continue;
    }
    SeriesSum sum = reader.sum(*row, &seen);
    if (sum.present) {
      return {generation, sum, reader.full_name(*row)};
    }
  }
  return {};
}

// The HELP texts of the old V1 counters (queries, hits), which alone tell blocks from tokens.
std::pair<std::string_view, std::string_view> old_names_help(const Reader& reader) {
  return {reader.help_of(reader.full_name(*find_row(MetricRole::queries, NameGeneration::v1_deprecated))),
          reader.help_of(reader.full_name(*find_row(MetricRole::hits, NameGeneration::v1_deprecated)))};
}

CounterFlavor flavor_of(const Reader& reader, const Chosen& queries, bool has_gauge) {
  // Presence, not value: a filtered-out series still tells which vLLM exported it.
  const bool has_current = reader.sum(MetricRole::queries, NameGeneration::v1_current).present ||
                           reader.sum(MetricRole::hits, NameGeneration::v1_current).present;
  const bool has_deprecated = reader.sum(MetricRole::queries, NameGeneration::v1_deprecated).present ||
                              reader.sum(MetricRole::hits, NameGeneration::v1_deprecated).present;
  if (has_current && has_deprecated) {
    return CounterFlavor::v1_both_names;
  }
  if (has_current) {
    return CounterFlavor::v1_new_names;
  }
  if (has_deprecated) {
    // 0.7.3-0.8.5 V1 counted blocks; only the HELP text tells ("... number of queried blocks.").
    const auto [queries_help, hits_help] = old_names_help(reader);
    const bool blocks = mentions_blocks(queries_help) || mentions_blocks(hits_help);
    return blocks ? CounterFlavor::v1_blocks : CounterFlavor::v1_old_names;
  }
  if (queries.generation == NameGeneration::inference_sim) {
    return CounterFlavor::inference_sim;
  }
  return has_gauge ? CounterFlavor::v0_gauge : CounterFlavor::none;
}

CounterUnit unit_of(CounterFlavor flavor) {
  switch (flavor) {
    case CounterFlavor::none:
    case CounterFlavor::v0_gauge: return CounterUnit::none;
    case CounterFlavor::v1_blocks: return CounterUnit::blocks;
    default: return CounterUnit::tokens;
  }
}

std::optional<std::size_t> parse_size(const std::string& text) {
  std::size_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// vllm:cache_config_info: one series per engine. Any "False" wins (some engine does not cache).
void read_cache_config(const Reader& reader, PodSnapshot& snapshot) {
  const std::string name = reader.full_name(*find_row(MetricRole::cache_config, NameGeneration::all_versions));
  for (const prom::Sample* sample : reader.exposition().samples(name)) {
    if (const std::string* enabled = sample->label("enable_prefix_caching")) {
      if (snapshot.prefix_caching_label.empty() || *enabled == "False") {
        snapshot.prefix_caching_label = *enabled;
      }
    }
    if (const std::string* block_size = sample->label("block_size"); block_size && !snapshot.block_size_tokens) {
      snapshot.block_size_tokens = parse_size(*block_size);
    }
  }
  if (snapshot.prefix_caching_label == "True") {
    snapshot.prefix_caching_enabled = true;
  } else if (snapshot.prefix_caching_label == "False") {
    snapshot.prefix_caching_enabled = false;
  }
}

// Keeps the series of `sum` in `series` and notes its duplicates in the snapshot.
void keep_series(PodSnapshot& snapshot, SeriesSum& sum, prom::SeriesMap& series) {
  series = std::move(sum.series);
  snapshot.duplicate_series.insert(snapshot.duplicate_series.end(), sum.duplicates.begin(), sum.duplicates.end());
}

void read_other_counters(const Reader& reader, PodSnapshot& snapshot) {
  for (const MetricNameRow& row : rows_for(MetricRole::requests_success)) {
    if (SeriesSum sum = reader.sum(row); sum.present) {
      snapshot.requests_success = sum.value;
      keep_series(snapshot, sum, snapshot.requests_series);
      break;
    }
  }
  SeriesSum external_queries = reader.sum(MetricRole::external_queries, NameGeneration::all_versions);
  SeriesSum external_hits = reader.sum(MetricRole::external_hits, NameGeneration::all_versions);
  snapshot.external.queries_tokens = external_queries.value;
  snapshot.external.hits_tokens = external_hits.value;
  keep_series(snapshot, external_queries, snapshot.external.queries_series);
  keep_series(snapshot, external_hits, snapshot.external.hits_series);
  if (const auto samples = reader.exposition().samples(k_process_start); !samples.empty()) {
    snapshot.process_start_unix_seconds = samples.front()->value;
  }
}

}  // namespace

std::string series_key(const prom::Sample& sample) {
  std::vector<const prom::Label*> labels;
  labels.reserve(sample.labels.size());
  for (const prom::Label& label : sample.labels) {
    labels.push_back(&label);
  }
  std::sort(labels.begin(), labels.end(), [](const prom::Label* a, const prom::Label* b) { return a->name < b->name; });
  std::string key;
  for (const prom::Label* label : labels) {
    key += fmt::format("{}{}=\"{}\"", key.empty() ? "" : ",", label->name, prom::escape_label_value(label->value));
  }
  return key;
}

PodSnapshot extract_counters(const prom::Exposition& exposition, std::string_view model_filter) {
  Reader reader(exposition, model_filter);
  reader.choose_namespace();
  PodSnapshot snapshot;
  snapshot.metric_namespace = std::string(reader.metric_namespace());

  std::set<std::string> seen;
  Chosen queries = choose_counter(reader, MetricRole::queries, seen);
  Chosen hits = choose_counter(reader, MetricRole::hits, seen);
  const SeriesSum gauge = reader.sum(MetricRole::hit_rate_gauge, NameGeneration::v0_gauge, &seen);

  snapshot.flavor = flavor_of(reader, queries, gauge.present);
  snapshot.flavor_text = std::string(describe(snapshot.flavor));
  if (snapshot.metric_namespace != k_metric_namespaces[0]) {
    snapshot.flavor_text += fmt::format(" under Ray Serve ({})", snapshot.metric_namespace);
  }
  snapshot.unit = unit_of(snapshot.flavor);
  if (const auto [queries_help, hits_help] = old_names_help(reader);
      snapshot.flavor == CounterFlavor::v1_old_names && queries_help.empty() && hits_help.empty()) {
    snapshot.unit_verified = false;
    snapshot.flavor_text += ", no HELP text: tokens assumed (BLOCKS if vLLM V1 <= 0.8.5)";
  }
  snapshot.queries = queries.sum.value;
  snapshot.hits = hits.sum.value;
  keep_series(snapshot, queries.sum, snapshot.queries_series);
  keep_series(snapshot, hits.sum, snapshot.hits_series);
  snapshot.queries_metric = queries.name;
  snapshot.hits_metric = hits.name;
  if (const std::string created = created_name(queries.name); !created.empty()) {
    // "..._total" -> "..._created": prometheus_client's creation timestamp of the counter.
    snapshot.counters_created_unix_seconds = reader.max_of(created);
  }
  if (gauge.present) {
    // A ratio: summing series makes no sense; with several series the largest is reported.
    snapshot.hit_rate_gauge = reader.max_of(reader.full_name(*find_row(MetricRole::hit_rate_gauge,
                                                                       NameGeneration::v0_gauge)));
  }
  read_cache_config(reader, snapshot);
  if (!snapshot.prefix_caching_enabled && snapshot.hit_rate_gauge && *snapshot.hit_rate_gauge < 0) {
    snapshot.prefix_caching_enabled = false;  // V0: the gauge reads -1 when prefix caching is off
  }
  read_other_counters(reader, snapshot);
  snapshot.model_names_seen.assign(seen.begin(), seen.end());
  return snapshot;
}

PodSnapshotResult snapshot_pod(const PodScrape& scrape, std::string_view model_filter) {
  PodSnapshotResult result{scrape.pod, scrape.source, util::fail(""), scrape.scraped_at};
  if (!scrape.text) {
    result.snapshot = util::fail(scrape.text.error());
    return result;
  }
  auto parsed = prom::parse_text(*scrape.text);
  if (!parsed) {
    result.snapshot = util::fail(fmt::format("pod {} ({}): not Prometheus text: {}", scrape.pod, scrape.source,
                                             prom::format_error(parsed.error(), scrape.source)));
    return result;
  }
  result.snapshot = extract_counters(*parsed, model_filter);
  return result;
}

std::vector<PodSnapshotResult> snapshot_pods(const std::vector<PodScrape>& scrapes, std::string_view model_filter) {
  std::vector<PodSnapshotResult> results;
  results.reserve(scrapes.size());
  for (const PodScrape& scrape : scrapes) {
    results.push_back(snapshot_pod(scrape, model_filter));
  }
  return results;
}

}  // namespace llmd::scrape
