#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/exit_codes.hpp"
#include "run/gates.hpp"
#include "report/json_report.hpp"
#include "report/junit_report.hpp"
#include "report/text_report.hpp"

using testing::HasSubstr;
using testing::Not;
namespace scenario = llmd::scenario;
namespace report = llmd::report;
namespace run = llmd::run;

TEST(JsonReport, RedactsSecretHeadersAndNeverHoldsTheToken) {
  scenario::Scenario s;
  s.target.base_url = "https://gw.example";
  s.target.api_key_env = "MY_TOKEN_VAR";
  s.target.headers = {{"X-Api-Key", "sk-123"}, {"Cookie", "session=abc"}, {"X-Tenant", "blue"}};
  run::RunReport r;
  r.scenario = &s;
  run::judge(r);
  const std::string text = report::to_json(r, llmd::cli::exit_code(r.verdict)).dump();
  EXPECT_THAT(text, Not(HasSubstr("sk-123")));
  EXPECT_THAT(text, Not(HasSubstr("session=abc")));
  EXPECT_THAT(text, HasSubstr("\"X-Tenant\":\"blue\""));
  EXPECT_THAT(text, HasSubstr("\"api_key_env\":\"MY_TOKEN_VAR\""));
  const auto json = report::to_json(r, llmd::cli::exit_code(r.verdict));
  EXPECT_EQ(json["schema"], "llmd-bench/result");
  EXPECT_EQ(json["version"], 1);
  EXPECT_TRUE(json["run"].is_null());
}

TEST(JsonReport, PhaseKeysAnExecutorDoesNotUseAreNullNotZero) {
  using Kind = scenario::ExecutorKind;
  scenario::Scenario s;
  const auto phase = [](std::string name, Kind kind) {
    scenario::Phase p;
    p.name = std::move(name);
    p.executor = kind;
    return p;
  };
  scenario::Phase closed = phase("closed", Kind::constant_vus);
  closed.vus = 4;
  closed.duration = std::chrono::seconds(10);
  scenario::Phase open = phase("open", Kind::poisson);
  open.rate_per_s = 2.5;
  open.max_in_flight = 100;
  open.duration = std::chrono::seconds(10);
  scenario::Phase ramp = phase("ramp", Kind::ramping_vus);
  ramp.stages = {{std::chrono::seconds(3), 5}, {std::chrono::seconds(2), 0}};
  scenario::Phase counted = phase("counted", Kind::iterations);
  counted.iterations = 7;
  counted.vus = 1;
  s.phases = {closed, open, ramp, counted};
  const auto phases = report::scenario_echo(s)["phases"];
  EXPECT_EQ(phases[0]["vus"], 4);
  EXPECT_EQ(phases[0]["duration_s"], 10.0);
  for (const auto* key : {"rate_per_s", "max_in_flight", "iterations", "max_duration_s", "start_vus", "stages"}) {
    EXPECT_TRUE(phases[0][key].is_null()) << key;
  }
  EXPECT_EQ(phases[1]["rate_per_s"], 2.5);
  EXPECT_EQ(phases[1]["max_in_flight"], 100);
  EXPECT_TRUE(phases[1]["vus"].is_null());
  EXPECT_EQ(phases[2]["start_vus"], 0);  // set (a ramp from zero): 0, not null
  EXPECT_EQ(phases[2]["stages"].size(), 2u);
  EXPECT_EQ(phases[2]["duration_s"], 5.0);  // the stages' sum
  EXPECT_TRUE(phases[2]["vus"].is_null());
  EXPECT_EQ(phases[3]["iterations"], 7);
  EXPECT_EQ(phases[3]["max_duration_s"], 600.0);
  EXPECT_TRUE(phases[3]["duration_s"].is_null());
  EXPECT_TRUE(phases[3]["rate_per_s"].is_null());
}

TEST(JsonReport, TargetNameIsSimulatorOrTheUrlWithoutCredentials) {
  scenario::Scenario s;
  run::RunReport r;
  r.scenario = &s;
  r.embedded_sim = true;
  r.target_url = "http://127.0.0.1:4000";
  EXPECT_EQ(report::to_json(r, llmd::cli::exit_code(r.verdict))["target"]["name"], "simulator");
  r.embedded_sim = false;
  r.target_url = "https://bob:pw@gw.example/v1?key=abc";
  EXPECT_EQ(report::to_json(r, llmd::cli::exit_code(r.verdict))["target"]["name"], "https://gw.example/v1");
}

TEST(TextReport, ShowsCachePerPodThresholdMarksAndVerdict) {
  scenario::Scenario s;
  s.name = "demo";
  s.thresholds = {*scenario::parse_threshold("cache_hit_rate", ">=0.90")};
  run::RunReport r;
  r.scenario = &s;
  r.target_url = "http://127.0.0.1:9";
  r.run.emplace();
  r.run->phases.emplace_back().name = "loop";
  r.cache_source = "2 pods";
  llmd::scrape::CacheReport cache;
  llmd::scrape::PodCacheRow row;
  row.pod = "pod-a";
  row.queries.delta = 1000;
  row.hits.delta = 800;
  row.hit_rate = 0.8;
  row.share_of_queries = 1.0;
  cache.pods.push_back(row);
  cache.totals.queries = 1000;
  cache.totals.hits = 800;
  cache.totals.hit_rate = 0.8;
  r.cache = cache;
  run::judge(r);
  const auto text = report::render_text(r);
  EXPECT_THAT(text, HasSubstr("pod-a"));
  EXPECT_THAT(text, HasSubstr("80.0%"));
  EXPECT_THAT(text, HasSubstr("✗ cache_hit_rate"));
  EXPECT_THAT(text, HasSubstr("verdict: FAIL (1 of 1 gates failed: cache_hit_rate "));
  const auto ascii = report::render_text(r, {.unicode = false});
  EXPECT_THAT(ascii, HasSubstr("FAIL cache_hit_rate"));
}

// The ideal hit rate next to the measured one in the summary and in the JSON result; why not, when it
// was not computed; a gamma phase's burstiness and a prefix-groups prompt in the echo.
TEST(Reports, ShowWhatTheWorkloadAllowsNextToTheMeasuredHitRate) {
  scenario::Scenario s;
  s.request.prompt = scenario::PromptKind::prefix_groups;
  s.request.prefix_groups.groups = 8;
  s.request.prefix_groups.prompts_per_group = 16;
  s.request.prefix_groups.system_prompt_tokens = scenario::fixed_length(2000, 2000);
  s.request.prefix_groups.question_tokens = {scenario::LengthDistribution::Kind::uniform, 16, 64, 16, 64};
  s.request.prefix_groups.order = scenario::PrefixGroupsSpec::Order::grouped;
  scenario::Phase gamma;
  gamma.name = "bursts";
  gamma.executor = scenario::ExecutorKind::gamma;
  gamma.rate_per_s = 10;
  gamma.burstiness = 0.5;
  gamma.duration = std::chrono::seconds(60);
  s.phases = {gamma};
  run::RunReport r;
  r.scenario = &s;
  r.run.emplace();
  r.cache_source = "4 pods";
  llmd::scrape::CacheReport cache;
  cache.totals.queries = 260096;
  cache.totals.hits = 240000;
  cache.totals.hit_rate = 240000.0 / 260096;
  r.cache = cache;
  run::IdealHitRate ideal;
  ideal.rate = 240000.0 / 260096;
  ideal.requests = 128;
  ideal.prompt_tokens = 260096;
  ideal.hit_tokens = 240000;
  ideal.block_size_source = "sim.block_size";
  r.ideal_hit_rate = ideal;
  run::judge(r);
  EXPECT_THAT(report::render_text(r),
              HasSubstr("  workload allows 92.3%, measured 92.3% (ideal: 128 measured requests from an empty cache, "
                        "every earlier prompt's full blocks cached; 240000 of 260096 prompt tokens, block size 16 "
                        "(sim.block_size), simulator tokenizer)\n"));
  auto json = report::to_json(r, llmd::cli::exit_code(r.verdict));
  EXPECT_DOUBLE_EQ(json["ideal_hit_rate"]["rate"].get<double>(), 240000.0 / 260096);
  EXPECT_EQ(json["ideal_hit_rate"]["hit_tokens"], 240000);
  EXPECT_EQ(json["ideal_hit_rate"]["tokenizer"], "simulator");
  EXPECT_EQ(json["ideal_hit_rate"]["initial_cache"],
            (nlohmann::json{{"state", "empty"}, {"primed_prefixes", 0}, {"blocks", 0}, {"reset", "none"}}));
  // From the primed cache the summary and the JSON say what it held.
  run::IdealHitRate primed = ideal;
  primed.initial_prefixes = 8;
  primed.initial_blocks = 1000;
  primed.initial_reset = "api";
  r.ideal_hit_rate = primed;
  EXPECT_THAT(report::render_text(r),
              HasSubstr("(ideal: 128 measured requests from a cache holding the 8 primed prefixes (1000 full blocks; "
                        "reset: api before the priming), every earlier prompt's full blocks cached;"));
  EXPECT_EQ(report::to_json(r, llmd::cli::exit_code(r.verdict))["ideal_hit_rate"]["initial_cache"],
            (nlohmann::json{{"state", "primed"}, {"primed_prefixes", 8}, {"blocks", 1000}, {"reset", "api"}}));
  primed.initial_prefixes = 1;
  primed.initial_blocks = 62;
  primed.initial_reset = "none";
  r.ideal_hit_rate = primed;
  EXPECT_THAT(report::render_text(r),
              HasSubstr("from a cache holding the 1 primed prefix (62 full blocks, no reset before: what the pods held "
                        "is not counted)"));
  r.ideal_hit_rate = ideal;
  const auto& groups = json["scenario"]["request"]["prefix_groups"];
  EXPECT_EQ(groups["groups"], 8);
  EXPECT_EQ(groups["order"], "grouped");
  EXPECT_EQ(groups["system_prompt_tokens"]["value"], 2000);
  // The same shape as multi_turn lengths and the scenario file: only the keys the distribution takes.
  EXPECT_EQ(groups["system_prompt_tokens"].size(), 2u);
  EXPECT_EQ(groups["question_tokens"]["distribution"], "uniform");
  EXPECT_EQ(groups["question_tokens"]["max"], 64);
  EXPECT_TRUE(groups["output_tokens"].is_null());
  EXPECT_EQ(json["scenario"]["phases"][0]["burstiness"], 0.5);
  EXPECT_EQ(json["scenario"]["phases"][0]["rate_per_s"], 10.0);

  run::IdealHitRate not_computed;
  not_computed.requests = 5;
  not_computed.reason = "not computed for dataset prompts";
  r.ideal_hit_rate = not_computed;
  EXPECT_THAT(report::render_text(r), HasSubstr("  expected hit rate: not computed for dataset prompts\n"));
  json = report::to_json(r, llmd::cli::exit_code(r.verdict));
  EXPECT_TRUE(json["ideal_hit_rate"]["rate"].is_null());
  EXPECT_TRUE(json["ideal_hit_rate"]["hit_tokens"].is_null());
  r.cache.reset();
  r.ideal_hit_rate = ideal;
  EXPECT_THAT(report::render_text(r), HasSubstr("prefix cache (no counters read)\n  workload allows 92.3%, measured not read"));
  s.request.prompt = scenario::PromptKind::shared_prefix;
  EXPECT_TRUE(report::scenario_echo(s)["request"]["prefix_groups"].is_null());
}

// The client's own CPU over the measured loop: total, user/system, share of a core, per request and
// per output token; no line when it was not recorded.
TEST(TextReport, TheCpuLineSaysWhatTheClientCostPerRequestAndToken) {
  using namespace std::chrono_literals;
  scenario::Scenario s;
  run::RunReport r;
  r.scenario = &s;
  r.target_url = "http://127.0.0.1:9";
  r.run.emplace();
  r.run->total.ok = 90;
  r.run->total.failed = 10;
  r.run->total.output_tokens_total = 4000;
  r.run->total.wall_duration = 4s;
  run::judge(r);
  EXPECT_THAT(report::render_text(r), Not(HasSubstr("cpu:")));
  r.run->client_cpu = llmd::engine::CpuTime{1500ms, 500ms};
  EXPECT_THAT(report::render_text(r),
              HasSubstr("cpu:      the client used 2s of CPU in the measured loop (user 1.5s, system 500ms), 0.50 of a "
                        "core over 4s; 20ms per request, 500us per output token (2000 tokens per client CPU-second)\n"));
  // Two event loops (--threads 2, or merged shards): their CPU over the wall time is in cores.
  r.run->threads.resize(2);
  r.run->client_cpu = llmd::engine::CpuTime{5s, 1s};
  EXPECT_THAT(report::render_text(r), HasSubstr("system 1s), 1.50 cores over 4s (2 event loops); 60ms per request"));
}

// First byte, first event and the client's event-loop lag have lines of their own only when they
// differ from TTFT by more than 5% (loop lag: p99 above 5% of TTFT p50); otherwise the TTFT line
// names them. Each figure comes from its own histogram.
TEST(TextReport, FoldsFirstByteFirstEventAndLoopLagIntoTtftUnlessTheyDiffer) {
  scenario::Scenario s;
  s.name = "timings";
  run::RunReport r;
  r.scenario = &s;
  r.target_url = "http://127.0.0.1:9";
  r.run.emplace();
  auto& phase = r.run->phases.emplace_back();
  phase.name = "loop";
  phase.histograms.first_byte_ns.record(2'000'000);
  phase.histograms.first_event_ns.record(30'000'000);
  phase.histograms.ttft_ns.record(400'000'000);
  run::judge(r);
  auto text = report::render_text(r);
  EXPECT_THAT(text, HasSubstr("first byte ......: p50    2.00ms  p90    2.00ms  p95    2.00ms  p99    2.00ms"));
  EXPECT_THAT(text, HasSubstr("first event .....: p50   30.00ms"));
  EXPECT_THAT(text, HasSubstr("ttft ............: p50  400.00ms  p90  400.00ms"));
  EXPECT_THAT(text, Not(HasSubstr("event loop lag")));  // no probes: no line
  r.run->phases[0].histograms.event_loop_lag_ns.record(150'000);
  text = report::render_text(r);
  EXPECT_THAT(text, HasSubstr("avg  400.00ms  (event loop lag p99 150us)\n"));  // 150 us < 5% of 400 ms
  EXPECT_THAT(text, Not(HasSubstr("event loop lag ..")));
  r.run->phases[0].histograms.event_loop_lag_ns.record(30'000'000);  // p99 30 ms > 20 ms
  text = report::render_text(r);
  EXPECT_THAT(text, HasSubstr("event loop lag ..: p50     150us"));

  auto& close = r.run->phases[0].histograms;
  close = {};
  close.ttft_ns.record(100'000'000);
  close.first_byte_ns.record(96'000'000);   // 4% below
  close.first_event_ns.record(104'000'000); // 4% above
  text = report::render_text(r);
  EXPECT_THAT(text, HasSubstr("avg  100.00ms  (first byte, first event within 5%)\n"));
  EXPECT_THAT(text, Not(HasSubstr("first byte ......")));
  close.first_event_ns = llmd::engine::make_engine_histogram();
  close.first_event_ns.record(107'000'000);  // 7% above: its own line again
  text = report::render_text(r);
  EXPECT_THAT(text, HasSubstr("(first byte within 5%)"));
  EXPECT_THAT(text, HasSubstr("first event .....: p50  107."));
}

// The figures `vllm bench serve` prints (TPOT, total token throughput, input tokens, ITL p99), the
// rate an open-loop phase achieved, peak concurrency, an iterations phase cut by max_duration and
// the warm-up's result, each on its line.
TEST(TextReport, ShowsTpotTokensRateConcurrencyIterationsAndWarmup) {
  scenario::Scenario s;
  run::RunReport r;
  r.scenario = &s;
  r.run.emplace();
  auto& open = r.run->phases.emplace_back();
  open.name = "arrivals";
  open.executor = scenario::ExecutorKind::constant_arrival_rate;
  open.started = open.completed = open.ok = 98;
  open.dropped = 3;
  open.target_rate_per_s = 20.0;
  open.arrival_window = std::chrono::seconds(5);
  open.peak_in_flight = 7;
  open.mean_in_flight = 2.25;
  open.wall_duration = std::chrono::seconds(5);
  open.output_tokens_total = 1000;
  open.input_tokens_total = 4000;
  open.responses_with_input_tokens = 98;
  open.histograms.tpot_ns.record(20'000'000);
  open.histograms.inter_token_latency_ns.record(10'000'000);
  auto& cut = r.run->phases.emplace_back();
  cut.name = "fixed";
  cut.executor = scenario::ExecutorKind::iterations;
  cut.started = cut.completed = cut.ok = 7;
  cut.iterations_target = 20;
  cut.max_duration_reached = true;
  cut.responses_with_input_tokens = 5;
  r.warmup.emplace();
  auto& warm = r.warmup->phases.emplace_back();
  warm.name = "warm";
  warm.completed = warm.failed = 4;
  warm.failures_by_class[static_cast<std::size_t>(llmd::engine::FailureClass::http_status)] = 3;
  warm.failures_by_class[static_cast<std::size_t>(llmd::engine::FailureClass::connect)] = 1;
  run::judge(r);
  const auto text = report::render_text(r);
  EXPECT_THAT(text, HasSubstr("rate ............: 20.0/s target, 19.6/s achieved, 3 dropped\n"));
  EXPECT_THAT(text, HasSubstr("concurrency .....: peak 7 in flight, mean 2.2\n"));
  EXPECT_THAT(text, HasSubstr("tpot ............: p50   20.00ms  p90   20.00ms  p99   20.00ms  avg   20.00ms\n"));
  EXPECT_THAT(text, HasSubstr("inter-token .....: p50   10.00ms  p90   10.00ms  p95   10.00ms  p99   10.00ms"));
  EXPECT_THAT(text, HasSubstr("input tokens ....: 4000 total (usage.prompt_tokens of 98 ok responses)\n"));
  EXPECT_THAT(text, HasSubstr("output tokens ...: 1000 total, 200.0 tokens/s"));
  EXPECT_THAT(text, HasSubstr("total tokens ....: 5000 (input + output), 1000.0 tokens/s\n"));
  EXPECT_THAT(text, HasSubstr("iterations ......: 7/20 iterations, max_duration reached\n"));
  EXPECT_THAT(text, HasSubstr("input tokens ....: unknown (5 of 7 ok responses reported usage"));
  EXPECT_THAT(text, HasSubstr("warm-up warm (not measured): 4 requests, ok 0, failed 4 (most: http_status 3)\n"));
  EXPECT_EQ(text.find("total tokens"), text.rfind("total tokens"));  // not for the phase without input tokens
}

// Failed requests stay out of the latency lines; the failure lines give their class, an example and
// when they failed. Checks are counted, not gates: a check that was never evaluated says "no data".
TEST(TextReport, FailureLinesCarryTimeToFailureAndChecksAreCountedNotGates) {
  scenario::Scenario s;
  run::RunReport r;
  r.scenario = &s;
  r.run.emplace();
  auto& total = r.run->total;
  total.checks = {scenario::CheckKind::status_200};
  total.completed = total.failed = 2;
  const auto cut = static_cast<std::size_t>(llmd::engine::FailureClass::stream_cut);
  total.failures_by_class[cut] = 2;
  total.failure_examples[cut] = "stream ended before [DONE] after 3 events";
  total.time_to_failure_ns[cut].record(12'000'000);
  total.time_to_failure_ns[cut].record(40'000'000);
  total.check_counts[0] = {2, 0};
  r.run->phases.push_back(total);
  run::judge(r);
  auto text = report::render_text(r);
  EXPECT_THAT(text, HasSubstr("failures ........: stream_cut 2\n"));
  EXPECT_THAT(text, HasSubstr("http_req_failed .: 100.0% (2 failed + 0 aborted of 2 requests)\n"));
  EXPECT_THAT(text, HasSubstr("http_req_cut ....: 100.0% (2 cut before their end + 0 aborted by llmd-bench of 2 requests)\n"));
  EXPECT_THAT(text, HasSubstr("stream_cut (after p50 12.00ms, max 40.00ms): stream ended before [DONE] after 3 events\n"));
  EXPECT_THAT(text, HasSubstr("ttft ............: -\n"));
  EXPECT_THAT(text, HasSubstr("checks (counted, not gates: a `checks` threshold gates on them)\n"));
  EXPECT_THAT(text, HasSubstr("✓ status_200           100.0%  2 passed, 0 failed\n"));

  total.check_counts[0] = {1, 1};
  run::judge(r);
  text = report::render_text(r);
  EXPECT_THAT(text, HasSubstr("✗ status_200            50.0%  1 passed, 1 failed\n"));
  EXPECT_THAT(text, HasSubstr("verdict: PASS (0 of 0 gates passed)"));
  EXPECT_THAT(report::render_text(r, {.unicode = false}), HasSubstr("FAIL status_200            50.0%  1 passed, 1 failed\n"));

  total.check_counts[0] = {0, 0};
  total.completed = total.failed = 0;
  run::judge(r);
  text = report::render_text(r);
  EXPECT_THAT(text, HasSubstr("- status_200           no data (no request completed)"));
  EXPECT_EQ(report::to_json(r, llmd::cli::exit_code(r.verdict))["checks"]["status_200"]["no_data"], true);
  EXPECT_EQ(report::to_json(r, llmd::cli::exit_code(r.verdict))["checks"]["status_200"]["rate"], nullptr);
  EXPECT_THAT(report::render_junit(r), HasSubstr("<skipped message=\"no data: no request completed"));
}

// Check names as the scenario wrote them, everywhere: summary, JSON (top level and per phase), JUnit.
TEST(Reports, NameChecksAsTheScenarioWroteThem) {
  scenario::Scenario s;
  s.checks = {scenario::CheckKind::status_200, scenario::CheckKind::non_empty_content};
  s.check_spellings[scenario::CheckKind::status_200] = "status-200";
  run::RunReport r;
  r.scenario = &s;
  r.run.emplace();
  auto& total = r.run->total;
  total.checks = s.checks;
  total.completed = total.ok = 4;
  total.check_counts[0] = {3, 1};
  total.check_counts[1] = {4, 0};
  r.run->phases.push_back(total);
  run::judge(r);
  const auto text = report::render_text(r);
  EXPECT_THAT(text, HasSubstr("✗ status-200            75.0%  3 passed, 1 failed\n"));
  EXPECT_THAT(text, HasSubstr("✓ non_empty_content    100.0%  4 passed, 0 failed\n"));
  EXPECT_THAT(text, HasSubstr("  all checks            87.5%  7 passed, 1 failed\n"));
  const auto json = report::to_json(r, llmd::cli::exit_code(r.verdict));
  EXPECT_EQ(json["checks"]["status-200"]["failed"], 1);
  EXPECT_DOUBLE_EQ(json["checks"]["status-200"]["rate"].get<double>(), 0.75);
  EXPECT_FALSE(json["checks"].contains("status_200"));
  EXPECT_EQ(json["run"]["total"]["checks"]["status-200"]["passed"], 3);
  EXPECT_EQ(json["run"]["phases"][0]["checks"]["non_empty_content"]["passed"], 4);
  EXPECT_FALSE(json["run"]["phases"][0]["checks"].contains("status_200"));
  EXPECT_THAT(report::render_junit(r), HasSubstr("name=\"check: status-200\""));
}

// severity: warn: WARN with the observed value and the band in the summary, pass verdict with a
// warnings list in the JSON, <skipped> in JUnit.
TEST(Reports, AWarnThresholdIsShownAsAWarningEverywhere) {
  scenario::Scenario s;
  auto warn = *scenario::parse_threshold("cache_hit_rate", ">=0.90");
  warn.severity = scenario::ThresholdSeverity::warn;
  s.thresholds = {warn, *scenario::parse_threshold("cache_hit_rate", ">=0.70")};
  run::RunReport r;
  r.scenario = &s;
  llmd::scrape::CacheReport cache;
  cache.totals.hit_rate = 0.7812;
  r.cache = cache;
  run::judge(r);
  const auto text = report::render_text(r);
  EXPECT_THAT(text, HasSubstr("! cache_hit_rate       >=0.90         WARN (severity warn, the run still passes): "
                              "cache_hit_rate = 0.7812; required >= 0.9\n"));
  EXPECT_THAT(text, HasSubstr("✓ cache_hit_rate       >=0.70         0.7812\n"));
  EXPECT_THAT(text, HasSubstr("verdict: PASS (1 of 1 gates passed; 1 warning: cache_hit_rate >=0.90)"));
  EXPECT_THAT(report::render_text(r, {.unicode = false}), HasSubstr("WARN cache_hit_rate       >=0.90         WARN"));
  const auto json = report::to_json(r, llmd::cli::exit_code(r.verdict));
  EXPECT_EQ(json["verdict"], "pass");
  EXPECT_EQ(json["exit_code"], 0);
  ASSERT_EQ(json["warnings"].size(), 1u);
  EXPECT_EQ(json["warnings"][0]["threshold"], "cache_hit_rate >=0.90");
  EXPECT_DOUBLE_EQ(json["warnings"][0]["observed"].get<double>(), 0.7812);
  EXPECT_EQ(json["thresholds"][0]["status"], "warn");
  EXPECT_EQ(json["thresholds"][0]["severity"], "warn");
  EXPECT_EQ(json["thresholds"][1]["status"], "pass");
  EXPECT_EQ(json["thresholds"][1]["severity"], "fail");
  EXPECT_EQ(json["aborted_by_threshold"], nullptr);
}

TEST(RunDiagnostics, AppearInTheSummaryTheJsonAndAsJunitFailuresWhenErrors) {
  scenario::Scenario s;
  run::RunReport r;
  r.scenario = &s;
  r.diagnostics.push_back({"stream_buffered", llmd::scrape::Severity::warning, "40 of 40 streams arrived in bursts",
                           "set option http-no-delay"});
  r.diagnostics.push_back({"pod_requests_mismatch", llmd::scrape::Severity::error, "pods finished 50, the client 40", ""});
  run::judge(r);
  const auto text = report::render_text(r);
  EXPECT_THAT(text, HasSubstr("diagnostics\n  ! [stream_buffered] 40 of 40 streams arrived in bursts\n"
                              "      fix: set option http-no-delay\n"));
  EXPECT_THAT(text, HasSubstr("! [pod_requests_mismatch] pods finished 50, the client 40\n"));
  const auto json = report::to_json(r, llmd::cli::exit_code(r.verdict));
  ASSERT_EQ(json["diagnostics"].size(), 2u);
  EXPECT_EQ(json["diagnostics"][0]["code"], "stream_buffered");
  EXPECT_EQ(json["diagnostics"][0]["severity"], "warning");
  EXPECT_EQ(json["diagnostics"][0]["fix"], "set option http-no-delay");
  EXPECT_EQ(json["diagnostics"][1]["severity"], "error");
  const auto junit = report::render_junit(r);
  EXPECT_THAT(junit, HasSubstr("name=\"diagnostic: pod_requests_mismatch\""));
  EXPECT_THAT(junit, HasSubstr("message=\"pods finished 50, the client 40\""));
  EXPECT_THAT(junit, Not(HasSubstr("stream_buffered")));  // warnings are not testcases
}
