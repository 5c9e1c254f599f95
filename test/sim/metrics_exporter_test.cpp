#include "sim/metrics_exporter.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "prom/text_parser.hpp"

namespace llmd::sim {
namespace {

using prom::Exposition;
using prom::MetricType;
using prom::Sample;
using ::testing::ElementsAre;

constexpr double k_start_seconds = 1753795326.9352946;

// Distinct values everywhere, so a value rendered under the wrong name cannot pass.
PodMetrics distinct_metrics() {
  PodMetrics m;
  m.model_name = "meta-llama/Llama-3.1-8B";
  m.process_start_unix_seconds = k_start_seconds;
  m.num_gpu_blocks = 9271;
  m.prefix_cache_queries_tokens = 1234;
  m.prefix_cache_hits_tokens = 567;
  m.prefix_cache_queried_blocks = 80;
  m.prefix_cache_hit_blocks = 20;
  m.kv_cache_usage = 0.375;
  m.num_requests_running = 3;
  m.num_requests_waiting = 2;
  m.prompt_tokens = 4321;
  m.generation_tokens = 876;
  m.request_success_by_reason = {{"stop", 7}, {"length", 2}};
  for (double ttft : {0.0005, 0.3, 0.3, 12.0, 3000.0}) {
    m.time_to_first_token.observe(ttft);
  }
  for (double itl : {0.02, 0.04, 3.0}) {
    m.inter_token_latency.observe(itl);
  }
  m.e2e_request_latency.observe(0.4);
  m.e2e_request_latency.observe(100.0);
  m.request_queue_time.observe(0.01);
  return m;
}

Exposition parse_or_die(const std::string& text, const std::string& source) {
  auto parsed = prom::parse_text(text);
  if (!parsed) {
    ADD_FAILURE() << prom::format_error(parsed.error(), source);
    return {};
  }
  return *parsed;
}

Exposition render_and_parse(const PodMetrics& m, MetricsFlavor flavor) {
  return parse_or_die(render_metrics(m, flavor), std::string(to_string(flavor)));
}

std::string read_fixture(const std::string& file) {
  std::ifstream in(std::string(LLMD_TEST_FIXTURES) + "/metrics/" + file);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << file;
  return text.str();
}

using LabelMatch = std::initializer_list<std::pair<std::string, std::string>>;

// The one sample named exactly `name` whose labels include `match`; fails the test otherwise.
const Sample* find_sample(const Exposition& expo, const std::string& name, LabelMatch match = {}) {
  const Sample* found = nullptr;
  for (const Sample* sample : expo.samples(name)) {
    bool all = true;
    for (const auto& [label, value] : match) {
      const std::string* actual = sample->label(label);
      all = all && actual != nullptr && *actual == value;
    }
    if (all) {
      EXPECT_EQ(found, nullptr) << "two samples match " << name;
      found = sample;
    }
  }
  EXPECT_NE(found, nullptr) << "no sample " << name;
  return found;
}

double value_of(const Exposition& expo, const std::string& name, LabelMatch match = {}) {
  const Sample* sample = find_sample(expo, name, match);
  return sample == nullptr ? std::nan("") : sample->value;
}

MetricType type_of(const Exposition& expo, const std::string& family) {
  const prom::Family* f = expo.family(family);
  EXPECT_NE(f, nullptr) << "no family " << family;
  return f == nullptr ? MetricType::unknown : f->type;
}

std::set<std::string> label_names(const Sample& sample) {
  std::set<std::string> names;
  for (const auto& label : sample.labels) {
    names.insert(label.name);
  }
  return names;
}

// Cumulative, non-decreasing buckets ending in +Inf == _count; returns the finite `le` values.
std::vector<std::string> check_histogram(const Exposition& expo, const std::string& base) {
  std::vector<std::string> les;
  double previous = 0;
  for (const Sample* bucket : expo.samples(base + "_bucket")) {
    EXPECT_GE(bucket->value, previous) << base << " le=" << *bucket->label("le");
    previous = bucket->value;
    les.push_back(*bucket->label("le"));
  }
  EXPECT_FALSE(les.empty()) << base;
  if (les.empty()) {
    return les;
  }
  EXPECT_EQ(les.back(), "+Inf") << base;
  les.pop_back();
  EXPECT_EQ(previous, value_of(expo, base + "_count")) << base;
  return les;
}

// The lines of a captured /metrics that belong to families we render (minus `skip` prefixes) and
// that do not appear verbatim in `rendered`.
std::vector<std::string> missing_captured_lines(const std::string& rendered, const std::string& file,
                                                std::initializer_list<std::string> skip) {
  const Exposition ours = parse_or_die(rendered, "rendered");
  std::istringstream in(read_fixture(file));
  std::vector<std::string> missing;
  std::size_t checked = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    if (name == "#") {
      words >> name >> name;  // "# HELP name ..." / "# TYPE name ..."
    }
    name = name.substr(0, name.find('{'));
    const bool skipped = std::any_of(skip.begin(), skip.end(), [&](const std::string& s) {
      return line.starts_with(s) || name.starts_with(s);
    });
    if (skipped || (ours.family(name) == nullptr && ours.samples(name).empty())) {
      continue;
    }
    ++checked;
    if (("\n" + rendered).find("\n" + line + "\n") == std::string::npos) {
      missing.push_back(line);
    }
  }
  EXPECT_GT(checked, 10u) << file;
  return missing;
}

TEST(MetricsFlavor, ParsesExactlyTheThreeFlavors) {
  for (MetricsFlavor flavor : {MetricsFlavor::v0, MetricsFlavor::v0_10, MetricsFlavor::v0_11}) {
    const auto parsed = parse_metrics_flavor(to_string(flavor));
    ASSERT_TRUE(parsed.has_value()) << to_string(flavor);
    EXPECT_EQ(*parsed, flavor);
  }
  EXPECT_EQ(to_string(MetricsFlavor::v0_10), "v0.10");
}

TEST(MetricsFlavor, RejectsOtherSpellingsQuotingTheInput) {
  for (const std::string bad : {"v1", "V0.11", "0.11", "v0.11 ", ""}) {
    const auto parsed = parse_metrics_flavor(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_EQ(parsed.error(), "unknown metrics flavor \"" + bad + "\": expected one of \"v0\", \"v0.10\", \"v0.11\"");
  }
}

TEST(HistogramData, ObserveIsLeInclusiveAndOverflowsIntoInf) {
  HistogramData h({1.0, 2.0});
  for (double v : {0.5, 1.0, 1.5, 2.0, 7.0}) {
    h.observe(v);
  }
  EXPECT_THAT(h.bucket_counts, ElementsAre(2u, 2u, 1u));
  EXPECT_EQ(h.count, 5u);
  EXPECT_DOUBLE_EQ(h.sum, 12.0);
}

TEST(HistogramData, DropsTrailingInfBoundAndIgnoresNaNInBuckets) {
  HistogramData h({0.1, INFINITY});
  EXPECT_THAT(h.upper_bounds, ElementsAre(0.1));
  ASSERT_EQ(h.bucket_counts.size(), 2u);
  h.observe(std::nan(""));
  EXPECT_THAT(h.bucket_counts, ElementsAre(0u, 0u));
  EXPECT_EQ(h.count, 0u);
  EXPECT_TRUE(std::isnan(h.sum));
}

TEST(HistogramBuckets, AreVllm011Lists) {
  const std::vector<std::vector<double>> lists = {ttft_buckets_seconds(), inter_token_buckets_seconds(),
                                                  request_latency_buckets_seconds()};
  const std::vector<std::tuple<std::size_t, double, double>> expected = {
      {22, 0.001, 2560.0}, {19, 0.01, 80.0}, {21, 0.3, 7680.0}};
  for (std::size_t i = 0; i < lists.size(); ++i) {
    const auto& list = lists[i];
    EXPECT_EQ(std::tuple(list.size(), list.front(), list.back()), expected[i]) << i;
    EXPECT_TRUE(std::is_sorted(list.begin(), list.end())) << i;
    EXPECT_EQ(std::adjacent_find(list.begin(), list.end()), list.end()) << i;
  }
}

TEST(MetricsExporterV011, ExportsTokenCountersUnderTheNewNamesOnly) {
  const Exposition expo = render_and_parse(distinct_metrics(), MetricsFlavor::v0_11);
  EXPECT_EQ(type_of(expo, "vllm:prefix_cache_queries_total"), MetricType::counter);
  EXPECT_EQ(type_of(expo, "vllm:prefix_cache_hits_total"), MetricType::counter);
  EXPECT_EQ(value_of(expo, "vllm:prefix_cache_queries_total"), 1234.0);
  EXPECT_EQ(value_of(expo, "vllm:prefix_cache_hits_total"), 567.0);
  EXPECT_EQ(value_of(expo, "vllm:prompt_tokens_total"), 4321.0);
  EXPECT_EQ(value_of(expo, "vllm:generation_tokens_total"), 876.0);
  EXPECT_EQ(type_of(expo, "vllm:kv_cache_usage_perc"), MetricType::gauge);
  EXPECT_EQ(value_of(expo, "vllm:kv_cache_usage_perc"), 0.375);
  EXPECT_EQ(value_of(expo, "vllm:num_requests_running"), 3.0);
  EXPECT_EQ(value_of(expo, "vllm:num_requests_waiting"), 2.0);
  for (const char* hidden : {"vllm:gpu_prefix_cache_queries_total", "vllm:gpu_prefix_cache_hits_total",
                             "vllm:gpu_cache_usage_perc", "vllm:gpu_prefix_cache_hit_rate"}) {
    EXPECT_EQ(expo.family(hidden), nullptr) << hidden;
    EXPECT_TRUE(expo.samples(hidden).empty()) << hidden;
  }
}

TEST(MetricsExporterV011, EverySeriesHasModelNameAndEngineAndEveryFamilyHelpAndType) {
  PodMetrics m = distinct_metrics();
  m.engine = "1";
  const Exposition expo = render_and_parse(m, MetricsFlavor::v0_11);
  ASSERT_GT(expo.families.size(), 20u);
  for (const auto& family : expo.families) {
    EXPECT_FALSE(family.help.empty()) << family.name;
    EXPECT_NE(family.type, MetricType::untyped) << family.name;
    for (const Sample& sample : family.samples) {
      ASSERT_NE(sample.label("engine"), nullptr) << sample.name;
      EXPECT_EQ(*sample.label("engine"), "1") << sample.name;
      if (family.name != "vllm:cache_config_info") {
        ASSERT_NE(sample.label("model_name"), nullptr) << sample.name;
        EXPECT_EQ(*sample.label("model_name"), "meta-llama/Llama-3.1-8B");
      }
    }
  }
}

TEST(MetricsExporterV011, RequestSuccessPrecreatesEveryFinishReason) {
  const Exposition expo = render_and_parse(distinct_metrics(), MetricsFlavor::v0_11);
  EXPECT_EQ(type_of(expo, "vllm:request_success_total"), MetricType::counter);
  EXPECT_EQ(expo.samples("vllm:request_success_total").size(), 3u);
  EXPECT_EQ(value_of(expo, "vllm:request_success_total", {{"finished_reason", "stop"}}), 7.0);
  EXPECT_EQ(value_of(expo, "vllm:request_success_total", {{"finished_reason", "length"}}), 2.0);
  EXPECT_EQ(value_of(expo, "vllm:request_success_total", {{"finished_reason", "abort"}}), 0.0);
  EXPECT_EQ(expo.samples("vllm:request_success_created").size(), 3u);
}

TEST(MetricsExporterV011, CreatedGaugeFollowsEveryCounterAndHistogram) {
  const Exposition expo = render_and_parse(distinct_metrics(), MetricsFlavor::v0_11);
  for (const std::string base :
       {"vllm:prefix_cache_queries", "vllm:prefix_cache_hits", "vllm:prompt_tokens", "vllm:generation_tokens",
        "vllm:time_to_first_token_seconds", "vllm:inter_token_latency_seconds",
        "vllm:e2e_request_latency_seconds", "vllm:request_queue_time_seconds"}) {
    const std::string created = base + "_created";
    EXPECT_EQ(type_of(expo, created), MetricType::gauge) << created;
    EXPECT_EQ(value_of(expo, created), k_start_seconds) << created;
  }
  EXPECT_EQ(expo.family("vllm:prefix_cache_queries_created")->help,
            "Prefix cache queries, in terms of number of queried tokens.");
  EXPECT_EQ(expo.family("vllm:kv_cache_usage_perc_created"), nullptr);
  EXPECT_EQ(expo.family("vllm:num_requests_running_created"), nullptr);
  EXPECT_TRUE(expo.samples("vllm:prefix_cache_queries").empty());  // only _total / _created samples
}

TEST(MetricsExporterV011, HistogramsAreCumulativeWithInfEqualToCount) {
  const Exposition expo = render_and_parse(distinct_metrics(), MetricsFlavor::v0_11);
  const std::string ttft = "vllm:time_to_first_token_seconds";
  EXPECT_EQ(type_of(expo, ttft), MetricType::histogram);
  EXPECT_EQ(check_histogram(expo, ttft).size(), 22u);
  EXPECT_EQ(value_of(expo, ttft + "_bucket", {{"le", "0.001"}}), 1.0);
  EXPECT_EQ(value_of(expo, ttft + "_bucket", {{"le", "0.25"}}), 1.0);
  EXPECT_EQ(value_of(expo, ttft + "_bucket", {{"le", "0.5"}}), 3.0);
  EXPECT_EQ(value_of(expo, ttft + "_bucket", {{"le", "20.0"}}), 4.0);
  EXPECT_EQ(value_of(expo, ttft + "_bucket", {{"le", "2560.0"}}), 4.0);
  EXPECT_EQ(value_of(expo, ttft + "_bucket", {{"le", "+Inf"}}), 5.0);
  EXPECT_EQ(value_of(expo, ttft + "_count"), 5.0);
  EXPECT_DOUBLE_EQ(value_of(expo, ttft + "_sum"), 0.0005 + 0.3 + 0.3 + 12.0 + 3000.0);
  EXPECT_EQ(check_histogram(expo, "vllm:e2e_request_latency_seconds").size(), 21u);
  EXPECT_EQ(value_of(expo, "vllm:e2e_request_latency_seconds_bucket", {{"le", "60.0"}}), 1.0);
  EXPECT_EQ(value_of(expo, "vllm:e2e_request_latency_seconds_bucket", {{"le", "120.0"}}), 2.0);
  EXPECT_EQ(check_histogram(expo, "vllm:request_queue_time_seconds").size(), 21u);
  EXPECT_EQ(value_of(expo, "vllm:request_queue_time_seconds_count"), 1.0);
}

TEST(MetricsExporterV011, InterTokenLatencyAndDeprecatedTpotCarryTheSameSamples) {
  const Exposition expo = render_and_parse(distinct_metrics(), MetricsFlavor::v0_11);
  const std::string itl = "vllm:inter_token_latency_seconds";
  const std::string tpot = "vllm:time_per_output_token_seconds";
  EXPECT_EQ(check_histogram(expo, itl), check_histogram(expo, tpot));
  EXPECT_EQ(value_of(expo, itl + "_bucket", {{"le", "0.025"}}), 1.0);
  EXPECT_EQ(value_of(expo, itl + "_bucket", {{"le", "2.5"}}), 2.0);
  EXPECT_EQ(value_of(expo, itl + "_count"), 3.0);
  EXPECT_EQ(value_of(expo, itl + "_sum"), value_of(expo, tpot + "_sum"));
  EXPECT_THAT(expo.family(tpot)->help, ::testing::HasSubstr("DEPRECATED: Use vllm:inter_token_latency_seconds"));
}

TEST(MetricsExporterV011, CacheConfigInfoHasTheLabelsOfTheCapturedServer) {
  const Exposition expo = render_and_parse(distinct_metrics(), MetricsFlavor::v0_11);
  const std::string file = "vllm-v0.11.0-V1-issue28924-cache_config_info.txt";
  const Exposition captured = parse_or_die(read_fixture(file), file);
  const Sample* ours = find_sample(expo, "vllm:cache_config_info");
  const Sample* theirs = find_sample(captured, "vllm:cache_config_info");
  ASSERT_NE(ours, nullptr);
  ASSERT_NE(theirs, nullptr);
  EXPECT_EQ(label_names(*ours), label_names(*theirs));
  EXPECT_EQ(type_of(expo, "vllm:cache_config_info"), MetricType::gauge);
  EXPECT_EQ(ours->value, 1.0);
  EXPECT_EQ(ours->label("model_name"), nullptr);
  EXPECT_EQ(*ours->label("engine"), "0");
  EXPECT_EQ(*ours->label("block_size"), "16");
  EXPECT_EQ(*ours->label("num_gpu_blocks"), "9271");
  EXPECT_EQ(*ours->label("enable_prefix_caching"), "True");
  EXPECT_EQ(*ours->label("prefix_caching_hash_algo"), "sha256");
}

TEST(MetricsExporterV011, CachingOffStillExportsZeroCountersAndSaysFalse) {
  PodMetrics m;
  m.model_name = "m";
  m.enable_prefix_caching = false;
  m.block_size_tokens = 32;
  const Exposition expo = render_and_parse(m, MetricsFlavor::v0_11);
  EXPECT_EQ(value_of(expo, "vllm:prefix_cache_queries_total"), 0.0);
  EXPECT_EQ(value_of(expo, "vllm:prefix_cache_hits_total"), 0.0);
  const Sample* info = find_sample(expo, "vllm:cache_config_info");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(*info->label("enable_prefix_caching"), "False");
  EXPECT_EQ(*info->label("block_size"), "32");
}

TEST(MetricsExporterV010, ExportsOldAndNewNamesWithEqualValues) {
  const Exposition expo = render_and_parse(distinct_metrics(), MetricsFlavor::v0_10);
  for (const char* suffix : {"queries_total", "hits_total"}) {
    const std::string old_name = std::string("vllm:gpu_prefix_cache_") + suffix;
    const std::string new_name = std::string("vllm:prefix_cache_") + suffix;
    EXPECT_EQ(type_of(expo, old_name), MetricType::counter);
    EXPECT_EQ(value_of(expo, old_name), value_of(expo, new_name)) << suffix;
  }
  EXPECT_EQ(value_of(expo, "vllm:gpu_prefix_cache_hits_total"), 567.0);
  EXPECT_EQ(value_of(expo, "vllm:gpu_cache_usage_perc"), 0.375);
  EXPECT_EQ(value_of(expo, "vllm:kv_cache_usage_perc"), 0.375);
  EXPECT_EQ(check_histogram(expo, "vllm:time_per_output_token_seconds").size(), 19u);
  EXPECT_EQ(expo.family("vllm:inter_token_latency_seconds"), nullptr);
  EXPECT_EQ(expo.family("vllm:gpu_prefix_cache_hit_rate"), nullptr);
  EXPECT_EQ(*find_sample(expo, "vllm:cache_config_info")->label("prefix_caching_hash_algo"), "builtin");
}

TEST(MetricsExporterV010, ReproducesTheCapturedLinesVerbatim) {
  PodMetrics m;
  m.model_name = "zai-org/GLM-4.5";
  m.process_start_unix_seconds = 1.7537953269352946e+09;
  m.prefix_cache_queries_tokens = 32;
  m.kv_cache_usage = 9.75010481363281e-06;
  // Every `_created` child has its own creation time; the simulator gives all the process start.
  EXPECT_THAT(missing_captured_lines(render_metrics(m, MetricsFlavor::v0_10),
                                     "vllm-v0.10.0-V1-production-stack-issue617-EXCERPT.txt",
                                     {"vllm:gpu_prefix_cache_hits_created{"}),
              ::testing::IsEmpty());
}

TEST(MetricsExporterV0, HasHitRateGaugeInsteadOfTokenCounters) {
  const Exposition expo = render_and_parse(distinct_metrics(), MetricsFlavor::v0);
  EXPECT_EQ(type_of(expo, "vllm:gpu_prefix_cache_hit_rate"), MetricType::gauge);
  EXPECT_EQ(value_of(expo, "vllm:gpu_prefix_cache_hit_rate"), 20.0 / 80.0);
  EXPECT_EQ(value_of(expo, "vllm:cpu_prefix_cache_hit_rate"), 0.0);
  EXPECT_EQ(value_of(expo, "vllm:gpu_cache_usage_perc"), 0.375);
  EXPECT_EQ(value_of(expo, "vllm:cpu_cache_usage_perc"), 0.0);
  EXPECT_EQ(value_of(expo, "vllm:num_requests_swapped"), 0.0);
  EXPECT_EQ(value_of(expo, "vllm:prompt_tokens_total"), 4321.0);
  for (const char* absent : {"vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total",
                             "vllm:gpu_prefix_cache_queries_total", "vllm:gpu_prefix_cache_hits_total",
                             "vllm:kv_cache_usage_perc", "vllm:inter_token_latency_seconds"}) {
    EXPECT_EQ(expo.family(absent), nullptr) << absent;
  }
}

TEST(MetricsExporterV0, HasNoEngineLabelNoCreatedFamiliesAndOnlySeenReasons) {
  const Exposition expo = render_and_parse(distinct_metrics(), MetricsFlavor::v0);
  for (const auto& family : expo.families) {
    EXPECT_FALSE(family.name.ends_with("_created")) << family.name;
    for (const Sample& sample : family.samples) {
      EXPECT_EQ(sample.label("engine"), nullptr) << sample.name;
    }
  }
  EXPECT_EQ(expo.samples("vllm:request_success_total").size(), 2u);
  EXPECT_EQ(value_of(expo, "vllm:request_success_total", {{"finished_reason", "stop"}}), 7.0);
  EXPECT_EQ(value_of(expo, "vllm:request_success_total", {{"finished_reason", "length"}}), 2.0);
  const Sample* info = find_sample(expo, "vllm:cache_config_info");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->label("engine"), nullptr);
  EXPECT_EQ(info->label("model_name"), nullptr);
  EXPECT_EQ(info->label("prefix_caching_hash_algo"), nullptr);
  EXPECT_EQ(*info->label("enable_prefix_caching"), "True");
}

TEST(MetricsExporterV0, HitRateIsMinusOneWhenCachingIsOffAndZeroBeforeAnyQuery) {
  PodMetrics off = distinct_metrics();
  off.enable_prefix_caching = false;
  const Exposition expo_off = render_and_parse(off, MetricsFlavor::v0);
  EXPECT_EQ(value_of(expo_off, "vllm:gpu_prefix_cache_hit_rate"), -1.0);
  EXPECT_EQ(value_of(expo_off, "vllm:cpu_prefix_cache_hit_rate"), -1.0);
  EXPECT_EQ(*find_sample(expo_off, "vllm:cache_config_info")->label("enable_prefix_caching"), "False");
  PodMetrics fresh;
  fresh.model_name = "m";
  EXPECT_EQ(value_of(render_and_parse(fresh, MetricsFlavor::v0), "vllm:gpu_prefix_cache_hit_rate"), 0.0);
}

TEST(MetricsExporterV0, HistogramsUseV0BoundsWithExactCumulativeCounts) {
  const Exposition expo = render_and_parse(distinct_metrics(), MetricsFlavor::v0);
  const std::string ttft = "vllm:time_to_first_token_seconds";
  EXPECT_EQ(check_histogram(expo, ttft).size(), 16u);
  EXPECT_EQ(value_of(expo, ttft + "_bucket", {{"le", "10.0"}}), 3.0);
  EXPECT_EQ(value_of(expo, ttft + "_bucket", {{"le", "+Inf"}}), 5.0);
  const std::string tpot = "vllm:time_per_output_token_seconds";
  EXPECT_EQ(check_histogram(expo, tpot).size(), 13u);
  EXPECT_EQ(value_of(expo, tpot + "_bucket", {{"le", "2.5"}}), 2.0);
  EXPECT_EQ(value_of(expo, tpot + "_count"), 3.0);
  EXPECT_EQ(check_histogram(expo, "vllm:e2e_request_latency_seconds").size(), 15u);
  EXPECT_EQ(check_histogram(expo, "vllm:request_queue_time_seconds").size(), 15u);
}

TEST(MetricsExporterV0, ReproducesTheCapturedLinesVerbatim) {
  PodMetrics m;  // the state of the captured 0.4.3 server
  m.model_name = "facebook/opt-125m";
  m.prompt_tokens = 5;
  m.generation_tokens = 7;
  m.request_success_by_reason = {{"length", 1}};
  m.time_to_first_token.observe(0.31326723098754883);
  for (int i = 0; i < 6; ++i) {
    m.inter_token_latency.observe(0.04);
  }
  m.inter_token_latency.sum = 0.19016313552856445;
  m.e2e_request_latency.observe(0.5034303665161133);
  // 0.4.3 exported cache_config through Info("information of cache_config"), 0.6+ as a gauge.
  EXPECT_THAT(missing_captured_lines(render_metrics(m, MetricsFlavor::v0), "vllm-v0.4.3-V0engine-datadog-fixture.txt",
                                     {"vllm:cache_config_info"}),
              ::testing::IsEmpty());
}

}  // namespace
}  // namespace llmd::sim
