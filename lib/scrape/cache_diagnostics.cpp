#include "scrape/cache_diagnostics.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace llmd::scrape {

namespace {

constexpr std::string_view k_fix_caching_disabled =
    "vLLM disables prefix caching on some backends (e.g. ARM CPU); start vLLM with --enable-prefix-caching";
constexpr std::string_view k_fix_no_queries = "check the Host header, the selector/URLs and the namespace: "
                                              "the load may have reached other pods than the ones scraped";

// "the scraped pod" / "any of the 3 scraped pods" (`any_of` picks the second form's opening).
std::string scraped_pods(std::size_t count, std::string_view any_of) {
  return count == 1 ? std::string("the scraped pod") : fmt::format("{} {} scraped pods", any_of, count);
}

std::string quoted_list(const std::vector<std::string>& values) {
  std::vector<std::string> quoted;
  for (const std::string& value : values) {
    quoted.push_back("\"" + value + "\"");
  }
  return fmt::format("{}", fmt::join(quoted, ", "));
}

class Diagnoser {
 public:
  explicit Diagnoser(const CacheReport& report) : m_report(report) {}

  std::vector<CacheDiagnostic> run() {
    fleet();
    for (const PodCacheRow& row : m_report.pods) {
      pod(row);
    }
    return std::move(m_out);
  }

 private:
  void add(Severity severity, const PodCacheRow* row, std::string message, std::string_view fix) {
    std::optional<std::string> pod;
    if (row != nullptr) {
      pod = row->pod;
    }
    m_out.push_back({severity, std::move(pod), std::move(message), std::string(fix)});
  }

  void fleet() {
    const CacheTotals& totals = m_report.totals;
    const auto counted = std::count_if(m_report.pods.begin(), m_report.pods.end(),
                                       [](const PodCacheRow& row) { return row.in_totals; });
    if (m_report.pods.empty()) {
      add(Severity::error, nullptr, "no pod was scraped: there are no prefix-cache figures",
          "give the pods to scrape (URLs, selector or saved dumps)");
    } else if (counted == 0) {
      add(Severity::error, nullptr,
          fmt::format("{} gave no usable prefix-cache counters: no hit rate can be computed",
                      scraped_pods(m_report.pods.size(), "the")),
          "see the findings for each pod");
    } else if (totals.queries <= 0) {
      const std::string requests =
          totals.requests_success > 0 ? fmt::format(", while {:g} requests finished", totals.requests_success) : "";
      add(Severity::error, nullptr,
          fmt::format("no prefix-cache queries reached {} during the run (sum of query deltas = 0{})",
                      scraped_pods(static_cast<std::size_t>(counted), "any of the"), requests),
          k_fix_no_queries);
    }
    if (!totals.missing_pods.empty() && !m_report.pods.empty()) {
      add(Severity::error, nullptr,
          fmt::format("the totals cover {} of {} pods: {} missing ({}); the hit rate and the shares describe the "
                      "other pods only",
                      m_report.pods.size() - totals.missing_pods.size(), m_report.pods.size(),
                      totals.missing_pods.size(), fmt::join(totals.missing_pods, ", ")),
          "fix the cause named for each pod below; cache gates fail while pods are missing unless the scenario "
          "allows it (cache.allow_missing_pods: N)");
    }
    if (totals.mixed_units) {
      add(Severity::warning, nullptr,
          "pods count prefix-cache lookups in different units (tokens and blocks): the overall hit rate and the "
          "shares of queries mix them",
          "upgrade the vLLM <= 0.8 pods to >= 0.9.0, or read their per-pod hit rates only");
    }
    if (totals.external_queries_tokens) {
      const double queries = *totals.external_queries_tokens;
      const double hits = totals.external_hits_tokens.value_or(0.0);
      add(Severity::info, nullptr,
          fmt::format("KV-connector (external) prefix cache over the run: {:g} tokens queried, {:g} hit{}; reported "
                      "apart, never added to the local prefix-cache figures",
                      queries, hits, queries > 0 ? fmt::format(" ({:.1f}%)", 100.0 * hits / queries) : ""),
          "nothing to do: cross-instance hits are not local prefix-cache hits");
    }
  }

  void pod(const PodCacheRow& row) {
    if (row.status == PodStatus::scrape_failed) {
      add(Severity::error, &row, row.error, "the pod is left out of the totals: fix the cause above and rerun");
      return;
    }
    if (row.status == PodStatus::invalid) {
      add(Severity::error, &row, fmt::format("pod {}: {}", row.pod, row.error),
          "its figures are left out of the totals: check what serves this pod's /metrics (two exporters, a proxy "
          "merging pods, a counter that is not a counter) and rerun");
      return;
    }
    if (row.status == PodStatus::vanished) {
      add(Severity::warning, &row,
          fmt::format("pod {} was scraped before the run but is missing after it: left out of the totals", row.pod),
          "check whether it was deleted or rescheduled (kubectl get pods); a replacement pod gets a new name");
      return;
    }
    if (row.queries.delta_status == prom::DeltaStatus::appeared) {
      add(Severity::info, &row, fmt::format("pod {} appeared during the run: its counters are counted from zero", row.pod),
          "nothing to do if the fleet scaled up; if it replaced a pod, the old pod's counts are lost");
    }
    caching(row);
    if (row.reset) {
      add(Severity::warning, &row,
          fmt::format("pod {} restarted during the run ({}): its counters were counted from zero, so its figures "
                      "are lower bounds",
                      row.pod, row.reset_reason),
          fmt::format("check the pod's restarts and last state (kubectl describe pod {}: OOMKilled?) and rerun", row.pod));
    }
    vanished_series(row);
    counters(row);
  }

  // Series of a pod still present that disappeared: their increase is unknown (undercount).
  void vanished_series(const PodCacheRow& row) {
    std::vector<std::string> names;
    for (const auto& [metric, span] : {std::pair<std::string_view, const CounterSpan*>{row.queries_metric, &row.queries},
                                       {row.hits_metric, &row.hits}}) {
      for (const prom::SeriesEvent& event : span->series_events) {
        if (event.status == prom::DeltaStatus::vanished) {
          names.push_back(fmt::format("{}{{{}}}", metric, event.series));
        }
      }
    }
    if (!names.empty()) {
      add(Severity::warning, &row,
          fmt::format("pod {}: series missing after the run ({}): their increase is not counted, so the pod's "
                      "figures are lower bounds",
                      row.pod, fmt::join(names, ", ")),
          "check whether an engine of the pod stopped (data parallelism) or the model filter changed");
    }
  }

  void caching(const PodCacheRow& row) {
    if (row.prefix_caching_enabled == false) {
      const std::string evidence = row.prefix_caching_label == "False"
                                       ? "vllm:cache_config_info enable_prefix_caching=\"False\""
                                       : "vllm:gpu_prefix_cache_hit_rate = -1";
      add(Severity::warning, &row, fmt::format("prefix caching is disabled on pod {} ({})", row.pod, evidence),
          k_fix_caching_disabled);
    } else if (row.prefix_caching_label == "None") {
      add(Severity::info, &row,
          fmt::format("pod {} reports enable_prefix_caching=\"None\" in vllm:cache_config_info (seen on CPU builds): "
                      "whether prefix caching is on is unknown",
                      row.pod),
          "start vLLM with --enable-prefix-caching to be sure");
    }
  }

  void counters(const PodCacheRow& row) {
    if (row.unit == CounterUnit::blocks) {
      const std::string block = row.block_size_tokens ? fmt::format(" of {} tokens", *row.block_size_tokens) : "";
      add(Severity::warning, &row,
          fmt::format("pod {} counts prefix-cache lookups in BLOCKS{} (vLLM V1 <= 0.8): its hit rate is still valid "
                      "as a ratio, its token counts are not",
                      row.pod, block),
          "upgrade vLLM to >= 0.9.0 for counts in tokens");
    }
    if (!row.unit_verified) {
      add(Severity::warning, &row,
          fmt::format("pod {}: {} came without HELP text, so its unit is unverified: read as tokens (vLLM "
                      "0.9.0-0.9.1), but vLLM V1 <= 0.8.5 counted BLOCKS under this name (the hit rate stays valid as "
                      "a ratio, token counts would be off by the block size)",
                      row.pod, row.queries_metric),
          "check the pod's vLLM version (>= 0.9.0 counts tokens); through Prometheus, make its metadata API "
          "(/api/v1/targets/metadata) answer for this pod, or scrape the pod directly");
    }
    if (row.flavor == CounterFlavor::v0_gauge) {
      const std::string value = row.hit_rate_gauge_after ? fmt::format(" = {:g}", *row.hit_rate_gauge_after) : "";
      add(Severity::warning, &row,
          fmt::format("pod {} exports only the V0 gauge vllm:gpu_prefix_cache_hit_rate{} (a cumulative ratio since "
                      "the pod started, no counts): a hit rate over the run cannot be computed",
                      row.pod, value),
          "run vLLM's V1 engine (>= 0.9.0 counts tokens) to measure the prefix cache per run");
      return;
    }
    if (row.status != PodStatus::no_counters && row.in_totals) {
      return;
    }
    no_counters(row);
  }

  void no_counters(const PodCacheRow& row) {
    if (!row.queries_metric.empty() && !row.queries.after && !row.model_names_seen.empty()) {
      add(Severity::warning, &row,
          fmt::format("pod {}: the model filter matched none of its prefix-cache series (model_name values: {})",
                      row.pod, quoted_list(row.model_names_seen)),
          "filter on the model name exactly as vLLM reports it (its --served-model-name)");
    } else if (row.flavor == CounterFlavor::none) {
      add(Severity::warning, &row,
          fmt::format("pod {} answered with Prometheus text but without any vLLM prefix-cache metric", row.pod),
          "is it a vLLM pod (vLLM <= 0.5.4 exports none)? check the URL, port or selector");
    } else {
      add(Severity::warning, &row,
          fmt::format("pod {} does not export both prefix-cache counters (queries: \"{}\", hits: \"{}\"): left out "
                      "of the totals",
                      row.pod, row.queries_metric, row.hits_metric),
          "check the pod's vLLM version and its /metrics page");
    }
  }

  const CacheReport& m_report;
  std::vector<CacheDiagnostic> m_out;
};

}  // namespace

std::vector<CacheDiagnostic> diagnose_cache(const CacheReport& report) { return Diagnoser(report).run(); }

}  // namespace llmd::scrape
