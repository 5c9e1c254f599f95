// `cache_state:` of a scenario file: reset, prime, verify (scenarios/README.md#cache_state).
#include <array>

#include <fmt/format.h>

#include "scenario/load_sections.hpp"
#include "sim/sim_config.hpp"

namespace llmd::scenario::detail {

namespace {

using util::fail;
using yaml::Field;
using yaml::Section;

constexpr std::array<std::string_view, 5> k_cache_state_keys = {"reset", "prime", "verify", "pod_urls", "block_size"};

constexpr std::pair<std::string_view, CacheStateSpec::Reset> k_resets[] = {
    {"none", CacheStateSpec::Reset::none},
    {"api", CacheStateSpec::Reset::api},
    {"restart", CacheStateSpec::Reset::restart},
};

// The pods' counters can be read one scrape at a time, right now: not saved files, not Prometheus
// (its samples lag a scrape interval), not none.
bool counters_read_directly(const Scenario& s) {
  using Source = CacheSpec::Source;
  return s.cache.source == Source::urls || s.cache.source == Source::kubernetes ||
         (s.cache.source == Source::automatic && s.target.base_url.empty());
}

}  // namespace

util::Result<void> load_cache_state(const Field& field, CacheStateSpec& cache_state) {
  auto section = Section::open(field, k_cache_state_keys);
  if (!section) {
    return fail(section.error());
  }
  cache_state.where = field.where();
  if (auto reset = section->get("reset")) {
    auto value = reset->as_choice("reset", k_resets);
    if (!value) {
      return fail(value.error());
    }
    cache_state.reset = *value;
  }
  LLMD_TRY(section->read("prime", cache_state.prime));
  LLMD_TRY(section->read("verify", cache_state.verify));
  if (auto pod_urls = section->get("pod_urls")) {
    auto urls = read_http_urls(*pod_urls, "pod API URL, e.g. http://10.0.0.5:8000");
    if (!urls) {
      return fail(urls.error());
    }
    cache_state.pod_urls = std::move(*urls);
  }
  return section->read_unsigned("block_size", cache_state.block_size, sim::k_block_size_range.min,
                                sim::k_block_size_range.max);
}

util::Result<void> check_cache_state(const Scenario& s) {
  const CacheStateSpec& cs = s.cache_state;
  const std::string at = to_string(cs.where);
  using Reset = CacheStateSpec::Reset;
  if (cs.reset == Reset::restart && s.cache.source != CacheSpec::Source::kubernetes) {
    return fail(fmt::format("{}: cache_state.reset: restart restarts the pods with kubectl and needs cache.source: "
                            "kubernetes; with direct pod URLs or the embedded simulator use reset: api",
                            at));
  }
  const bool needs_counters = cs.reset == Reset::api || cs.verify;
  if (needs_counters && !counters_read_directly(s)) {
    return fail(fmt::format("{}: cache_state.{} reads each pod's prefix-cache counters around single probe requests: "
                            "it needs cache.urls, cache.source: kubernetes or the embedded simulator (not saved "
                            "files, not Prometheus, whose samples lag a scrape interval)",
                            at, cs.reset == Reset::api ? "reset: api" : "verify: true"));
  }
  if (!cs.pod_urls.empty()) {
    if (s.cache.source != CacheSpec::Source::urls) {
      return fail(fmt::format("{}: cache_state.pod_urls pairs with cache.urls (one API URL per metrics URL, in order); "
                              "the embedded simulator's and Kubernetes pods' API URLs are known",
                              at));
    }
    if (cs.pod_urls.size() != s.cache.urls.size()) {
      return fail(fmt::format("{}: cache_state.pod_urls lists {} URLs but cache.urls lists {}: give one pod API URL "
                              "per metrics URL, in the same order",
                              at, cs.pod_urls.size(), s.cache.urls.size()));
    }
  }
  return {};
}

}  // namespace llmd::scenario::detail
