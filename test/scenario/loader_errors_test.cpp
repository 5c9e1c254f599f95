// Errors every section shares: YAML syntax, unknown/duplicate keys, types, required keys, and
// the file:line:column format.
#include <string>

#include <gtest/gtest.h>

#include "scenario/loader.hpp"
#include "scenario/source_location.hpp"
#include "scenario_test_support.hpp"

namespace llmd::scenario {
namespace {

using test::k_load;
using test::load_error;
using test::load_ok;

TEST(SourceLocation, FormatsFileLineColumn) {
  EXPECT_EQ(to_string(SourceLocation{"scenarios/x.yaml", 12, 5}), "scenarios/x.yaml:12:5");
  EXPECT_EQ(to_string(SourceLocation{"scenarios/x.yaml", 12, 0}), "scenarios/x.yaml:12");
  EXPECT_EQ(to_string(SourceLocation{"--target", 0, 0}), "--target");
}

TEST(ScenarioLoader, UnknownExecutorNamesFileLineColumnAndChoices) {
  EXPECT_EQ(load_error("name: x\n"
                       "load:\n"
                       "  - executor: constant-vus\n"
                       "    vus: 1\n"
                       "    duration: 1s\n"
                       "  - executor: constant_vus\n"),
            "scenarios/x.yaml:6:15: load[1].executor: unknown executor \"constant_vus\"; expected one of constant-vus, "
            "ramping-vus, constant-arrival-rate, poisson, gamma, iterations, trace");
}

TEST(ScenarioLoader, InvalidYamlNamesThePosition) {
  EXPECT_EQ(load_error("load: [1\nname: x\n"), "scenarios/x.yaml:2:5: invalid YAML: end of sequence flow not found");
  EXPECT_EQ(load_error("load:\n\tname: x\n"), "scenarios/x.yaml:2:6: invalid YAML: illegal map value");
}

TEST(ScenarioLoader, EmptyOrNonMappingDocument) {
  EXPECT_EQ(load_error(""), "scenarios/x.yaml: empty scenario; expected a mapping with at least a `load` list");
  EXPECT_EQ(load_error("# nothing here\n"), "scenarios/x.yaml: empty scenario; expected a mapping with at least a `load` list");
  EXPECT_EQ(load_error("- a\n- b\n"), "scenarios/x.yaml:1:1: expected a mapping, got a list");
}

TEST(ScenarioLoader, UnknownTopLevelKeyListsValidKeys) {
  EXPECT_EQ(load_error(std::string(k_load) + "targt:\n  base_url: http://x\n"),
            "scenarios/x.yaml:5:1: unknown key \"targt\"; valid keys: name, target, model, api, requests, warmup, load, "
            "checks, thresholds, cache, sim, time_scale, cache_state, events, engine, slo");
}

TEST(ScenarioLoader, UnknownKeyForExecutorListsItsKeys) {
  EXPECT_EQ(load_error("load:\n  - executor: constant-vus\n    vus: 1\n    duration: 1s\n    rate: 5\n"),
            "scenarios/x.yaml:5:5: load[0]: unknown key \"rate\" for executor constant-vus; valid keys: name, executor, "
            "start_time, vus, duration, graceful_stop");
}

TEST(ScenarioLoader, DuplicateKey) {
  EXPECT_EQ(load_error(std::string(k_load) + "name: a\nname: b\n"),
            "scenarios/x.yaml:6:1: duplicate key \"name\" (first at line 5)");
}

TEST(ScenarioLoader, MissingRequiredKeyNamesTheSectionLine) {
  EXPECT_EQ(load_error("name: x\n"), "scenarios/x.yaml:1:1: missing required key \"load\"");
  EXPECT_EQ(load_error("load:\n  - executor: constant-vus\n    vus: 1\n"),
            "scenarios/x.yaml:2:5: load[0]: missing required key \"duration\"");
  EXPECT_EQ(load_error("load:\n  - vus: 1\n"), "scenarios/x.yaml:2:5: load[0]: missing required key \"executor\"");
}

TEST(ScenarioLoader, NullValueCountsAsAbsent) {
  EXPECT_EQ(load_error("load:\n  - executor: constant-vus\n    vus:\n    duration: 1s\n"),
            "scenarios/x.yaml:2:5: load[0]: missing required key \"vus\"");
  EXPECT_EQ(load_ok(std::string(k_load) + "target:\nname: ~\n").name, "x");
}

TEST(ScenarioLoader, WrongTypesNameTheExpectedType) {
  EXPECT_EQ(load_error("load:\n  - executor: constant-vus\n    vus: ten\n    duration: 1s\n"),
            "scenarios/x.yaml:3:10: load[0].vus: expected a whole number, got \"ten\"");
  EXPECT_EQ(load_error("load:\n  - executor: constant-vus\n    vus: \"10\"\n    duration: 1s\n"),
            "scenarios/x.yaml:3:10: load[0].vus: expected a whole number, got the string \"10\"");
  EXPECT_EQ(load_error("load:\n  - executor: constant-vus\n    vus: 2.5\n    duration: 1s\n"),
            "scenarios/x.yaml:3:10: load[0].vus: expected a whole number, got \"2.5\"");
  EXPECT_EQ(load_error(std::string(k_load) + "model: {a: 1}\n"),
            "scenarios/x.yaml:5:8: model: expected a string, got a mapping");
  EXPECT_EQ(load_error(std::string(k_load) + "time_scale: fast\n"),
            "scenarios/x.yaml:5:13: time_scale: expected a number, got \"fast\"");
  EXPECT_EQ(load_error("load: {executor: constant-vus}\n"), "scenarios/x.yaml:1:7: load: expected a list, got a mapping");
  EXPECT_EQ(load_error("load:\n  - constant-vus\n"),
            "scenarios/x.yaml:2:5: load[0]: expected a mapping with an `executor`, got \"constant-vus\"");
}

TEST(ScenarioLoader, RangesNameTheBound) {
  EXPECT_EQ(load_error("load:\n  - executor: constant-vus\n    vus: 0\n    duration: 1s\n"),
            "scenarios/x.yaml:3:10: load[0].vus: must be >= 1, got 0");
  EXPECT_EQ(load_error("load:\n  - executor: constant-vus\n    vus: -3\n    duration: 1s\n"),
            "scenarios/x.yaml:3:10: load[0].vus: must be >= 1, got -3");
  EXPECT_EQ(load_error(std::string(k_load) + "time_scale: 0\n"), "scenarios/x.yaml:5:13: time_scale: must be >= 1e-06, got 0");
  EXPECT_EQ(load_error("load:\n  - executor: constant-vus\n    vus: 1\n    duration: 0s\n"),
            "scenarios/x.yaml:4:15: load[0].duration: must be > 0, got \"0s\"");
}

TEST(ScenarioLoader, DurationsNeedAUnit) {
  EXPECT_EQ(load_error("load:\n  - executor: constant-vus\n    vus: 1\n    duration: 120\n"),
            "scenarios/x.yaml:4:15: load[0].duration: duration \"120\" has no unit; add one, e.g. \"120s\" or "
            "\"120ms\" (units: h, m, s, ms, us, ns)");
}

TEST(ScenarioLoader, BooleansAreTrueOrFalseOnly) {
  EXPECT_EQ(load_error(std::string(k_load) + "target:\n  insecure: yes\n"),
            "scenarios/x.yaml:6:13: target.insecure: expected a boolean (true or false), got \"yes\"");
  EXPECT_EQ(load_error(std::string(k_load) + "target:\n  insecure: \"true\"\n"),
            "scenarios/x.yaml:6:13: target.insecure: expected a boolean (true or false), got the string \"true\"");
  EXPECT_EQ(load_error(std::string(k_load) + "target:\n  insecure: [true]\n"),
            "scenarios/x.yaml:6:13: target.insecure: expected a boolean (true or false), got a list");
}

TEST(ScenarioLoader, EmptyStringIsRejected) {
  EXPECT_EQ(load_error(std::string(k_load) + "model: \"\"\n"),
            "scenarios/x.yaml:5:8: model: must not be empty (leave the key out for the default)");
}

TEST(ScenarioLoader, NameDefaultsToFileStemAndPathIsKept) {
  const Scenario scenario = load_ok(k_load);
  EXPECT_EQ(scenario.name, "x");
  EXPECT_EQ(scenario.path, "scenarios/x.yaml");
  EXPECT_EQ(load_ok(std::string(k_load) + "name: my-test\n").name, "my-test");
}

TEST(ScenarioLoader, AcceptsJson) {
  auto scenario = load_scenario_text(R"({
  "name": "json",
  "target": {"base_url": "http://gw:80", "insecure": true},
  "load": [{"executor": "constant-vus", "vus": 3, "duration": "10s"}],
  "thresholds": {"ttft": ["p(95)<2s"]}
})",
                                     "scenarios/x.json");
  ASSERT_TRUE(scenario) << scenario.error();
  EXPECT_EQ(scenario->name, "json");
  EXPECT_EQ(scenario->target.base_url, "http://gw:80");
  EXPECT_TRUE(scenario->target.insecure);
  ASSERT_EQ(scenario->phases.size(), 1u);
  EXPECT_EQ(scenario->phases[0].vus, 3u);
  EXPECT_EQ(scenario->phases[0].duration, std::chrono::seconds(10));
  ASSERT_EQ(scenario->thresholds.size(), 1u);
  EXPECT_EQ(scenario->thresholds[0].where.line, 5);
}

TEST(ScenarioLoader, JsonErrorsAreTypedAndLocated) {
  auto scenario = load_scenario_text("{\n  \"load\": [{\"executor\": \"constant-vus\", \"vus\": \"3\", \"duration\": \"1s\"}]\n}",
                                     "scenarios/x.json");
  ASSERT_FALSE(scenario);
  EXPECT_EQ(scenario.error(), "scenarios/x.json:2:48: load[0].vus: expected a whole number, got the string \"3\"");
}

TEST(ScenarioLoader, GarbageIsAnErrorNotACrash) {
  for (const char* text : {"load: !!binary abc\n", "? [a, b]\n: 1\n", "load: *undefined\n", "load: [[[[[\n",
                           "thresholds: &x {ttft: *x}\nload: []\n", "load:\n  - &p {executor: iterations, stages: *p}\n",
                           "\xff\xfe\x00", "load:\n  - executor: [constant-vus]\n", "[1, 2", "load: 5\n"}) {
    EXPECT_FALSE(load_scenario_text(text, "g.yaml")) << text;
  }
}

TEST(ScenarioLoader, MissingFileNamesThePath) {
  auto scenario = load_scenario("/nonexistent-dir/none.yaml");
  ASSERT_FALSE(scenario);
  EXPECT_EQ(scenario.error(), "cannot read /nonexistent-dir/none.yaml: No such file or directory");
}

}  // namespace
}  // namespace llmd::scenario
