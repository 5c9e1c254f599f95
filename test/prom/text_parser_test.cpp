#include "prom/text_parser.hpp"

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace llmd::prom {
namespace {

using ::testing::ElementsAre;

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(LLMD_TEST_FIXTURES) + "/metrics/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

const char* const k_v0100 = "vllm-v0.10.0-V1-production-stack-issue617-EXCERPT.txt";
const char* const k_v0110 = "vllm-v0.11.0-V1-issue28924-cache_config_info.txt";
const char* const k_v043 = "vllm-v0.4.3-V0engine-datadog-fixture.txt";

Exposition parse_ok(std::string_view text) {
  auto result = parse_text(text);
  EXPECT_TRUE(result.has_value()) << (result ? "" : format_error(result.error(), "input"));
  return result ? *result : Exposition{};
}

// The single sample named `name`; fails the test when there is not exactly one.
Sample only_sample(const Exposition& exposition, std::string_view name) {
  const auto samples = exposition.samples(name);
  EXPECT_EQ(samples.size(), 1U) << name;
  return samples.empty() ? Sample{} : *samples.front();
}

void expect_error(std::string_view text, std::size_t line, const std::string& message) {
  const auto result = parse_text(text);
  ASSERT_FALSE(result.has_value()) << "parsed: " << text;
  EXPECT_EQ(result.error().line, line) << text;
  EXPECT_EQ(result.error().message, message) << text;
}

// --- real vLLM fixtures ---------------------------------------------------------------------

TEST(PromTextParser, ParsesV0100ExcerptPrefixCacheCounter) {
  const auto exposition = parse_ok(read_fixture(k_v0100));
  const Sample queries = only_sample(exposition, "vllm:prefix_cache_queries_total");
  EXPECT_EQ(queries.value, 32.0);
  ASSERT_NE(queries.label("engine"), nullptr);
  EXPECT_EQ(*queries.label("engine"), "0");
  ASSERT_NE(queries.label("model_name"), nullptr);
  EXPECT_EQ(*queries.label("model_name"), "zai-org/GLM-4.5");
  EXPECT_EQ(queries.line, 15U);
  EXPECT_EQ(only_sample(exposition, "vllm:gpu_prefix_cache_hits_total").value, 0.0);
  EXPECT_EQ(only_sample(exposition, "vllm:kv_cache_usage_perc").value, 9.75010481363281e-06);
  ASSERT_NE(exposition.family("vllm:prefix_cache_queries_total"), nullptr);
  EXPECT_EQ(exposition.family("vllm:prefix_cache_queries_total")->type, MetricType::counter);
  EXPECT_EQ(exposition.family("vllm:prefix_cache_queries_total")->help,
            "Prefix cache queries, in terms of number of queried tokens.");
  EXPECT_EQ(exposition.families.size(), 5U);
}

TEST(PromTextParser, V0100CreatedSamplesAreSeparateGaugeFamilies) {
  const auto exposition = parse_ok(read_fixture(k_v0100));
  for (const char* name : {"vllm:gpu_prefix_cache_queries_created", "vllm:gpu_prefix_cache_hits_created"}) {
    const Family* family = exposition.family(name);
    ASSERT_NE(family, nullptr) << name;
    EXPECT_EQ(family->type, MetricType::gauge) << name;
    ASSERT_EQ(family->samples.size(), 1U) << name;
    EXPECT_EQ(family->samples[0].name, name);
  }
  EXPECT_EQ(only_sample(exposition, "vllm:gpu_prefix_cache_queries_created").value, 1.7537953269352946e+09);
  EXPECT_EQ(exposition.family("vllm:gpu_prefix_cache_hits_total")->samples.size(), 1U);
  EXPECT_TRUE(exposition.samples("vllm:gpu_prefix_cache_queries_total").empty());
}

TEST(PromTextParser, ParsesV0110CacheConfigInfoLabels) {
  const auto exposition = parse_ok(read_fixture(k_v0110));
  const Family* family = exposition.family("vllm:cache_config_info");
  ASSERT_NE(family, nullptr);
  EXPECT_EQ(family->type, MetricType::gauge);
  EXPECT_EQ(family->help, "");
  const Sample info = only_sample(exposition, "vllm:cache_config_info");
  EXPECT_EQ(info.labels.size(), 21U);
  EXPECT_EQ(*info.label("enable_prefix_caching"), "True");
  EXPECT_EQ(*info.label("block_size"), "16");
  EXPECT_EQ(*info.label("num_gpu_blocks"), "9271");
  EXPECT_EQ(*info.label("prefix_caching_hash_algo"), "sha256");
  EXPECT_EQ(*info.label("swap_space_bytes"), "0.0");
  EXPECT_EQ(info.label("model_name"), nullptr);
  EXPECT_EQ(info.value, 1.0);
}

TEST(PromTextParser, ParsesV043HistogramFamilies) {
  const auto exposition = parse_ok(read_fixture(k_v043));
  EXPECT_EQ(exposition.families.size(), 29U);
  int histograms = 0;
  for (const Family& family : exposition.families) {
    if (family.type != MetricType::histogram) {
      continue;
    }
    ++histograms;
    std::vector<const Sample*> buckets;
    for (const Sample& sample : family.samples) {
      if (sample.name == family.name + "_bucket") {
        buckets.push_back(&sample);
      }
    }
    ASSERT_FALSE(buckets.empty()) << family.name;
    for (const Sample* bucket : buckets) {
      EXPECT_NE(bucket->label("le"), nullptr) << family.name;
    }
    EXPECT_EQ(*buckets.back()->label("le"), "+Inf") << family.name;
    EXPECT_EQ(family.samples.size(), buckets.size() + 2) << family.name << ": buckets + _count + _sum";
  }
  EXPECT_EQ(histograms, 7);
  const Family* ttft = exposition.family("vllm:time_to_first_token_seconds");
  ASSERT_NE(ttft, nullptr);
  EXPECT_EQ(ttft->samples.size(), 19U);
  EXPECT_EQ(only_sample(exposition, "vllm:time_to_first_token_seconds_sum").value, 0.31326723098754883);
}

TEST(PromTextParser, ParsesV043ScalarValues) {
  const auto exposition = parse_ok(read_fixture(k_v043));
  EXPECT_EQ(only_sample(exposition, "process_max_fds").value, 1.048576e+06);
  EXPECT_EQ(only_sample(exposition, "process_cpu_seconds_total").value, 10.950000000000001);
  EXPECT_EQ(only_sample(exposition, "process_virtual_memory_bytes").value, 6.634254336e+09);
  EXPECT_EQ(only_sample(exposition, "vllm:prompt_tokens_total").value, 5.0);
  EXPECT_EQ(*only_sample(exposition, "vllm:cache_config_info").label("enable_prefix_caching"), "False");
  EXPECT_EQ(exposition.samples("python_gc_objects_collected_total").size(), 3U);
  EXPECT_EQ(exposition.family("python_gc_collections_total")->type, MetricType::counter);
}

// Every prefix of every fixture (truncation at each byte) parses or fails cleanly: a stand-in
// for fuzzing. Prefixes that end at a line boundary are complete expositions and must parse.
TEST(PromTextParser, EveryFixturePrefixParsesOrFailsCleanly) {
  for (const char* name : {k_v0100, k_v0110, k_v043}) {
    const std::string text = read_fixture(name);
    ASSERT_FALSE(text.empty());
    for (std::size_t size = 0; size <= text.size(); ++size) {
      const auto result = parse_text(std::string_view(text).substr(0, size));
      if (!result) {
        EXPECT_GE(result.error().line, 1U) << name << " prefix " << size;
        EXPECT_FALSE(result.error().message.empty()) << name << " prefix " << size;
      }
      if (size == 0 || text[size - 1] == '\n') {
        EXPECT_TRUE(result.has_value()) << name << " prefix " << size;
      }
    }
  }
}

// --- grouping -------------------------------------------------------------------------------

TEST(PromTextParser, GroupsOpenMetricsCounterTotalAndCreated) {
  const auto exposition = parse_ok(
      "# TYPE vllm:prefix_cache_queries counter\n"
      "vllm:prefix_cache_queries_total{engine=\"0\"} 10.0\n"
      "vllm:prefix_cache_queries_created{engine=\"0\"} 1.75e+09\n"
      "# EOF\n");
  ASSERT_EQ(exposition.families.size(), 1U);
  const Family& family = exposition.families[0];
  EXPECT_EQ(family.type, MetricType::counter);
  ASSERT_EQ(family.samples.size(), 2U);
  EXPECT_EQ(family.samples[0].name, "vllm:prefix_cache_queries_total");
  EXPECT_EQ(family.samples[1].name, "vllm:prefix_cache_queries_created");
  EXPECT_EQ(only_sample(exposition, "vllm:prefix_cache_queries_total").value, 10.0);
  EXPECT_TRUE(exposition.samples("vllm:prefix_cache_queries").empty());
}

TEST(PromTextParser, CreatedDeclaredAsGaugeIsItsOwnFamily) {
  const auto exposition = parse_ok(
      "# TYPE vllm:prefix_cache_queries_total counter\n"
      "vllm:prefix_cache_queries_total 32.0\n"
      "# TYPE vllm:prefix_cache_queries_created gauge\n"
      "vllm:prefix_cache_queries_created 1.75e+09\n");
  ASSERT_EQ(exposition.families.size(), 2U);
  EXPECT_EQ(exposition.family("vllm:prefix_cache_queries_created")->type, MetricType::gauge);
  EXPECT_EQ(exposition.family("vllm:prefix_cache_queries_total")->samples.size(), 1U);
  const auto totals = exposition.samples("vllm:prefix_cache_queries_total");
  ASSERT_EQ(totals.size(), 1U);
  EXPECT_EQ(totals[0]->value, 32.0);
}

TEST(PromTextParser, HistogramNamedTotalUsesDeclaredFamilyName) {
  const auto exposition = parse_ok(
      "# TYPE vllm:iteration_tokens_total histogram\n"
      "vllm:iteration_tokens_total_bucket{le=\"1.0\"} 3.0\n"
      "vllm:iteration_tokens_total_bucket{le=\"+Inf\"} 4.0\n"
      "vllm:iteration_tokens_total_count 4.0\n"
      "vllm:iteration_tokens_total_sum 9.0\n"
      "vllm:iteration_tokens_total_created 1.75e+09\n");
  ASSERT_EQ(exposition.families.size(), 1U);
  EXPECT_EQ(exposition.families[0].type, MetricType::histogram);
  EXPECT_EQ(exposition.families[0].samples.size(), 5U);
  EXPECT_TRUE(exposition.samples("vllm:iteration_tokens_total").empty());
}

TEST(PromTextParser, GroupsSummaryInfoAndGaugeHistogramSamples) {
  const auto exposition = parse_ok(
      "# TYPE rpc summary\n"
      "rpc{quantile=\"0.5\"} 1.0\nrpc_sum 5.0\nrpc_count 2.0\nrpc_bucket 1.0\n"
      "# TYPE build info\n"
      "build_info{version=\"1\"} 1.0\n"
      "# TYPE queue gaugehistogram\n"
      "queue_bucket{le=\"+Inf\"} 2.0\nqueue_gsum 3.0\nqueue_gcount 2.0\n");
  EXPECT_EQ(exposition.family("rpc")->samples.size(), 3U);
  ASSERT_NE(exposition.family("rpc_bucket"), nullptr);
  EXPECT_EQ(exposition.family("rpc_bucket")->type, MetricType::untyped);
  EXPECT_EQ(exposition.family("build")->samples.size(), 1U);
  EXPECT_EQ(exposition.family("queue")->samples.size(), 3U);
  EXPECT_EQ(exposition.families.size(), 4U);
}

TEST(PromTextParser, UndeclaredSamplesFormUntypedFamilies) {
  const auto exposition = parse_ok(
      "# TYPE a counter\n"
      "a_total 1\n"
      "stray 2\n"
      "a_created 3\n"
      "stray 4\n");
  ASSERT_EQ(exposition.families.size(), 2U);
  EXPECT_EQ(exposition.families[0].samples.size(), 2U);
  EXPECT_EQ(exposition.families[1].name, "stray");
  EXPECT_EQ(exposition.families[1].type, MetricType::untyped);
  EXPECT_EQ(exposition.families[1].samples.size(), 2U);
}

TEST(PromTextParser, GaugeDoesNotClaimSuffixedSamples) {
  const auto exposition = parse_ok("# TYPE g gauge\ng_total 1\n");
  ASSERT_EQ(exposition.families.size(), 2U);
  EXPECT_TRUE(exposition.family("g")->samples.empty());
  EXPECT_EQ(exposition.family("g_total")->type, MetricType::untyped);
}

TEST(PromTextParser, KeepsFamiliesWithoutSamples) {
  const auto exposition = parse_ok("# HELP lonely Nothing yet.\n# TYPE lonely counter\n");
  ASSERT_EQ(exposition.families.size(), 1U);
  EXPECT_EQ(exposition.families[0].help, "Nothing yet.");
  EXPECT_EQ(exposition.families[0].type, MetricType::counter);
  EXPECT_TRUE(exposition.families[0].samples.empty());
}

// --- lexical details ------------------------------------------------------------------------

TEST(PromTextParser, EmptyAndBlankTextsAreEmptyExpositions) {
  EXPECT_TRUE(parse_ok("").families.empty());
  EXPECT_TRUE(parse_ok("\n\n  \t\n\r\n").families.empty());
  EXPECT_TRUE(parse_ok("# just a comment\n#\n# HELP\n# TYPE\n").families.empty());
}

TEST(PromTextParser, AcceptsCrlfLineEndings) {
  const auto exposition = parse_ok("# HELP m Help text.\r\n# TYPE m gauge\r\nm{a=\"x\"} 2.5\r\n\r\nm{a=\"y\"} 3\r\n");
  const Family* family = exposition.family("m");
  ASSERT_NE(family, nullptr);
  EXPECT_EQ(family->help, "Help text.");
  EXPECT_EQ(family->type, MetricType::gauge);
  ASSERT_EQ(family->samples.size(), 2U);
  EXPECT_EQ(*family->samples[0].label("a"), "x");
  EXPECT_EQ(family->samples[1].value, 3.0);
  EXPECT_EQ(family->samples[1].line, 5U);
}

TEST(PromTextParser, DecodesLabelValueEscapes) {
  const auto exposition = parse_ok(R"(m{a="back\\slash",b="say \"hi\"",c="two\nlines",d="tab\t",e="end\\"} 1)");
  const Sample sample = only_sample(exposition, "m");
  EXPECT_EQ(*sample.label("a"), "back\\slash");
  EXPECT_EQ(*sample.label("b"), "say \"hi\"");
  EXPECT_EQ(*sample.label("c"), "two\nlines");
  EXPECT_EQ(*sample.label("d"), "tab\\t");
  EXPECT_EQ(*sample.label("e"), "end\\");
}

TEST(PromTextParser, LabelValuesMayHoldBracesCommasAndEquals) {
  const auto sample = only_sample(parse_ok(R"(m{a="}",b="x,y=z",c="",d="[]"} 1)"), "m");
  EXPECT_EQ(*sample.label("a"), "}");
  EXPECT_EQ(*sample.label("b"), "x,y=z");
  EXPECT_EQ(*sample.label("c"), "");
  EXPECT_EQ(*sample.label("d"), "[]");
}

TEST(PromTextParser, DecodesHelpEscapes) {
  const auto exposition = parse_ok("# HELP m   Line one\\nback\\\\slash \\t kept\n");
  EXPECT_EQ(exposition.family("m")->help, "Line one\nback\\slash \\t kept");
}

TEST(PromTextParser, ParsesSpecialAndExponentValues) {
  const auto exposition = parse_ok(
      "a NaN\nb +Inf\nc -Inf\nd Inf\ne 1e+06\nf 9.75e-06\ng 1.0931263819e+010\nh 42\ni -3\nj +1.5\nk -0.0\n"
      "l 1E3\nm .5\n");
  EXPECT_TRUE(std::isnan(only_sample(exposition, "a").value));
  EXPECT_EQ(only_sample(exposition, "b").value, HUGE_VAL);
  EXPECT_EQ(only_sample(exposition, "c").value, -HUGE_VAL);
  EXPECT_EQ(only_sample(exposition, "d").value, HUGE_VAL);
  EXPECT_EQ(only_sample(exposition, "e").value, 1e6);
  EXPECT_EQ(only_sample(exposition, "f").value, 9.75e-06);
  EXPECT_EQ(only_sample(exposition, "g").value, 1.0931263819e10);
  EXPECT_EQ(only_sample(exposition, "h").value, 42.0);
  EXPECT_EQ(only_sample(exposition, "i").value, -3.0);
  EXPECT_EQ(only_sample(exposition, "j").value, 1.5);
  EXPECT_TRUE(std::signbit(only_sample(exposition, "k").value));
  EXPECT_EQ(only_sample(exposition, "l").value, 1000.0);
  EXPECT_EQ(only_sample(exposition, "m").value, 0.5);
}

TEST(PromTextParser, ParsesTimestamps) {
  const auto exposition = parse_ok("a 1 1718140558300\nb{x=\"1\"} 2 -5\nc 3\n");
  EXPECT_EQ(only_sample(exposition, "a").timestamp_ms, 1718140558300);
  EXPECT_EQ(only_sample(exposition, "b").timestamp_ms, -5);
  EXPECT_EQ(only_sample(exposition, "c").timestamp_ms, std::nullopt);
}

TEST(PromTextParser, FindsLabelsInAnyOrder) {
  const auto exposition = parse_ok("m{model_name=\"m1\",engine=\"0\"} 1\nm{engine=\"1\",model_name=\"m1\"} 2\n");
  const auto samples = exposition.samples("m");
  ASSERT_EQ(samples.size(), 2U);
  EXPECT_EQ(*samples[0]->label("engine"), "0");
  EXPECT_EQ(*samples[1]->label("engine"), "1");
  EXPECT_EQ(*samples[1]->label("model_name"), "m1");
  EXPECT_THAT(samples[0]->labels, ElementsAre(Label{"model_name", "m1"}, Label{"engine", "0"}));
}

TEST(PromTextParser, ToleratesWhitespaceVariantsAndTrailingComma) {
  const auto exposition = parse_ok(
      "  m { a = \"1\" , b=\"2\", } 7 \n"
      "\tm{a=\"3\",}\t8\t100\t\n"
      "m{} 9\n"
      "m{_private=\"x\",__meta=\"y\"}10\n"
      "#\tTYPE\tn\tcounter  \n"
      "n 1\n");
  const auto samples = exposition.samples("m");
  ASSERT_EQ(samples.size(), 4U);
  EXPECT_THAT(samples[0]->labels, ElementsAre(Label{"a", "1"}, Label{"b", "2"}));
  EXPECT_EQ(samples[0]->value, 7.0);
  EXPECT_EQ(samples[1]->value, 8.0);
  EXPECT_EQ(samples[1]->timestamp_ms, 100);
  EXPECT_TRUE(samples[2]->labels.empty());
  EXPECT_EQ(*samples[3]->label("_private"), "x");
  EXPECT_EQ(samples[3]->value, 10.0);
  EXPECT_EQ(exposition.family("n")->type, MetricType::counter);
}

TEST(PromTextParser, AcceptsEveryMetricType) {
  for (MetricType type : {MetricType::untyped, MetricType::counter, MetricType::gauge, MetricType::histogram,
                          MetricType::summary, MetricType::info, MetricType::stateset, MetricType::gaugehistogram,
                          MetricType::unknown}) {
    const std::string text = "# TYPE m " + std::string(to_string(type)) + "\n";
    EXPECT_EQ(parse_ok(text).family("m")->type, type) << text;
  }
}

TEST(PromTextParser, StopsAtEof) {
  const auto exposition = parse_ok("# TYPE m counter\nm_total 1\n# EOF\n");
  EXPECT_EQ(exposition.samples("m_total").size(), 1U);
  EXPECT_TRUE(parse_text("m 1\n# EOF").has_value());
  EXPECT_TRUE(parse_text("m 1\n# EOF\r\n\n").has_value());
}

TEST(PromTextParser, HelpersReturnNullForMissingNames) {
  const auto exposition = parse_ok("m{a=\"1\"} 1\n");
  EXPECT_EQ(exposition.family("nope"), nullptr);
  EXPECT_TRUE(exposition.samples("nope").empty());
  EXPECT_EQ(only_sample(exposition, "m").label("b"), nullptr);
}

TEST(PromTextParser, NamesMetricTypes) {
  EXPECT_EQ(to_string(MetricType::gaugehistogram), "gaugehistogram");
  EXPECT_EQ(to_string(MetricType::counter), "counter");
  EXPECT_EQ(to_string(MetricType::untyped), "untyped");
}

// --- errors ---------------------------------------------------------------------------------

TEST(PromTextParser, RejectsInvalidMetricName) {
  expect_error("ok 1\n1foo 3\n", 2, "invalid metric name \"1foo\"; expected [a-zA-Z_:][a-zA-Z0-9_:]*");
  expect_error("foo-bar{a=\"b\"} 1\n", 1, "invalid metric name \"foo-bar\"; expected [a-zA-Z_:][a-zA-Z0-9_:]*");
  expect_error("{a=\"b\"} 1\n", 1, "invalid metric name \"\"; expected [a-zA-Z_:][a-zA-Z0-9_:]*");
  expect_error("# HELP 9x text\n", 1, "invalid metric name \"9x\" in # HELP line; expected [a-zA-Z_:][a-zA-Z0-9_:]*");
  expect_error("# TYPE a-b counter\n", 1,
               "invalid metric name \"a-b\" in # TYPE line; expected [a-zA-Z_:][a-zA-Z0-9_:]*");
}

TEST(PromTextParser, RejectsUnterminatedLabelValue) {
  expect_error("m{a=\"b} 1\n", 1, "unterminated value \"b} 1\" for label \"a\"; expected a closing '\"'");
  expect_error("m{a=\"b\\\"} 1", 1, "unterminated value \"b\\\"} 1\" for label \"a\"; expected a closing '\"'");
  expect_error("m{a=\"b\\", 1, "unterminated value \"b\\\" for label \"a\"; expected a closing '\"'");
}

TEST(PromTextParser, RejectsMissingEqualsOrQuote) {
  expect_error("m{model \"x\"} 1\n", 1, "expected '=' after label name \"model\"");
  expect_error("m{model} 1\n", 1, "expected '=' after label name \"model\"");
  expect_error("m{model=x} 1\n", 1, "expected '\"' to open the value of label \"model\", got \"x} 1\"");
}

TEST(PromTextParser, RejectsBadLabelSyntax) {
  expect_error("m{1a=\"x\"} 1\n", 1, "invalid label name \"1a\"; expected [a-zA-Z_][a-zA-Z0-9_]*");
  expect_error("m{a:b=\"x\"} 1\n", 1, "invalid label name \"a:b\"; expected [a-zA-Z_][a-zA-Z0-9_]*");
  expect_error("m{,} 1\n", 1, "invalid label name \"\"; expected [a-zA-Z_][a-zA-Z0-9_]*");
  expect_error("m{a=\"x\" b=\"y\"} 1\n", 1, "expected ',' or '}' after label \"a\", got \"b=\"y\"} 1\"");
  expect_error("m{a=\"x\"", 1, "missing '}' after label \"a\" of metric \"m\"");
  expect_error("m{a=\"x\",", 1, "missing '}' in the labels of metric \"m\"");
  expect_error("m{", 1, "missing '}' in the labels of metric \"m\"");
}

TEST(PromTextParser, RejectsDuplicateLabelName) {
  expect_error("m{a=\"1\",b=\"2\",a=\"3\"} 1\n", 1, "duplicate label name \"a\" of metric \"m\"");
}

TEST(PromTextParser, RejectsBadValue) {
  expect_error("# TYPE m gauge\nm abc\n", 2,
               "could not parse value \"abc\" of metric \"m\"; expected a float, NaN, +Inf or -Inf");
  expect_error("m{a=\"1\"} 1.5.2\n", 1,
               "could not parse value \"1.5.2\" of metric \"m\"; expected a float, NaN, +Inf or -Inf");
  expect_error("m +-1\n", 1, "could not parse value \"+-1\" of metric \"m\"; expected a float, NaN, +Inf or -Inf");
  expect_error("m 1e999\n", 1,
               "could not parse value \"1e999\" of metric \"m\"; expected a float, NaN, +Inf or -Inf");
  expect_error("m\n", 1, "missing value of metric \"m\"");
  expect_error("m{a=\"1\"}   \r\n", 1, "missing value of metric \"m\"");
}

TEST(PromTextParser, RejectsBadTimestampAndTrailingGarbage) {
  expect_error("m 1 12.5\n", 1, "could not parse timestamp \"12.5\" of metric \"m\"; expected integer milliseconds");
  expect_error("m 1 100 extra\n", 1,
               "unexpected text \"extra\" after the timestamp of metric \"m\"; expected end of line");
}

TEST(PromTextParser, RejectsUnknownType) {
  expect_error("# HELP m x\n# TYPE m countr\n", 2,
               "unknown metric type \"countr\" for \"m\"; expected counter, gauge, histogram, summary, untyped, "
               "info, stateset, gaugehistogram or unknown");
  expect_error("# TYPE m\n", 1,
               "unknown metric type \"\" for \"m\"; expected counter, gauge, histogram, summary, untyped, "
               "info, stateset, gaugehistogram or unknown");
}

TEST(PromTextParser, RejectsSecondTypeOrHelpLine) {
  expect_error("# TYPE m gauge\nm 1\n# TYPE m gauge\n", 3, "second TYPE line for metric family \"m\"");
  expect_error("# HELP m a\n# HELP m b\n", 2, "second HELP line for metric family \"m\"");
}

TEST(PromTextParser, RejectsTypeAfterSamples) {
  expect_error("\nm{a=\"1\"} 1\nm{a=\"2\"} 2\n# TYPE m gauge\n", 4,
               "TYPE line for metric family \"m\" after its samples (line 2)");
}

TEST(PromTextParser, RejectsContentAfterEof) {
  expect_error("m 1\n# EOF\nn 2\n", 3, "unexpected text after \"# EOF\": \"n 2\"");
  expect_error("# EOF\n\n# comment\n", 3, "unexpected text after \"# EOF\": \"# comment\"");
}

TEST(PromTextParser, CountsLinesWithCrlf) {
  expect_error("# TYPE m gauge\r\nm 1\r\n\r\nm x\r\n", 4,
               "could not parse value \"x\" of metric \"m\"; expected a float, NaN, +Inf or -Inf");
}

TEST(PromTextParser, ShortensLongQuotes) {
  expect_error("m " + std::string(60, 'x') + "\n", 1,
               "could not parse value \"" + std::string(40, 'x') +
                   "...\" of metric \"m\"; expected a float, NaN, +Inf or -Inf");
}

TEST(PromTextParser, FormatsErrorWithSourceAndLine) {
  const auto result = parse_text("m{model \"x\"} 1\n");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(format_error(result.error(), "http://10.0.0.5:8200/metrics"),
            "http://10.0.0.5:8200/metrics:1: expected '=' after label name \"model\"");
}

}  // namespace
}  // namespace llmd::prom
