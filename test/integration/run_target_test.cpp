// `llmd-bench run` against a real target, before anything is measured: model discovery through
// GET /v1/models, the preflight request, `--target …/v1` (OpenAI's base_url convention) and the
// --sim-* flags that a real target makes meaningless. The real binary, a real `llmd-bench sim`
// process or canned servers on 127.0.0.1.
#include <chrono>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"
#include "support/canned_server.hpp"
#include "support/sim_process.hpp"

using llmd::test::CannedServer;
using llmd::test::read_json;
using llmd::test::scratch_dir;
using llmd::test::SimProcess;
using llmd::test::write_file;
using testing::HasSubstr;

namespace {

const std::string k_sim_model = "meta-llama/Llama-3.2-3B-Instruct";

std::filesystem::path small_scenario(const std::filesystem::path& dir, const std::string& extra = "") {
  return write_file(dir / "s.yaml", extra + R"(
requests: {max_tokens: 3}
load:
  - {name: loop, executor: iterations, iterations: 4, vus: 2}
)");
}

}  // namespace

// The simulator's gateway answers 400 "model not found in request body" to a POST without model,
// as the llm-d / GIE endpoint picker does; a scenario naming no model still runs, with the model
// GET /v1/models lists first, through an OpenAI-style base_url ending in /v1/.
TEST(RunTarget, AScenarioWithoutModelDiscoversItThroughTheGateway) {
  SimProcess sim({"--pods", "2", "--time-scale", "0.01"});
  const auto dir = scratch_dir();
  auto out = llmd::test::run_bench({small_scenario(dir).string(), "--target", sim.gateway() + "/v1/", "-q", "--out",
                                    "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("model:    " + k_sim_model + " (discovered from GET /v1/models)"));
  const auto result = read_json(dir / "r.json");
  EXPECT_EQ(result["model"], k_sim_model);
  EXPECT_EQ(result["model_source"], "discovered from GET /v1/models");
  EXPECT_EQ(llmd::test::phase_total(result)["counts"]["ok"], 4);
  EXPECT_EQ(sim.counters(0).requests + sim.counters(1).requests, 5) << "4 measured + 1 preflight, none at /v1/v1/";

  auto named = llmd::test::run_bench({small_scenario(dir).string(), "--target", sim.gateway(), "--model", k_sim_model,
                                      "-q", "--out", "json=" + (dir / "m.json").string()});
  EXPECT_EQ(named.exit_code, 0) << named.out << named.err;
  EXPECT_EQ(read_json(dir / "m.json")["model_source"], "--model");
}

// A gateway without /v1/models (here: every path answers an empty 404): no model can be found, the
// run is not carried out (exit 3) and the message names the URL, the status and the fix.
TEST(RunTarget, NoModelAndNoModelListExits3NamingTheUrl) {
  CannedServer gateway("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  const auto dir = scratch_dir();
  auto out = llmd::test::run_bench({small_scenario(dir).string(), "--target", gateway.url(), "-q", "--out",
                                    "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 3) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("no model to request: the scenario names none, and discovering it failed: GET " +
                                 gateway.url() + "/v1/models answered HTTP 404: (empty body); set `model` in the "
                                 "scenario or --model"));
  EXPECT_EQ(gateway.requests(), 1u) << "the GET only";
  EXPECT_THAT(out.out, HasSubstr("model:    (none: not named and not discovered)"));
  const auto result = read_json(dir / "r.json");
  EXPECT_EQ(result["verdict"], "error");
  EXPECT_TRUE(result["run"].is_null());
}

// A dead port: the preflight's one connection attempt is refused, the run stops at once (exit 3)
// with the URL named, and nothing is measured. (It used to make thousands of attempts.)
TEST(RunTarget, ADeadTargetStopsAtThePreflightAtOnce) {
  const auto dir = scratch_dir();
  const std::string url = "http://127.0.0.1:" + std::to_string(llmd::test::closed_port());
  const auto started = std::chrono::steady_clock::now();
  auto out = llmd::test::run_bench({small_scenario(dir, "model: m\n").string(), "--target", url, "-q", "--out",
                                    "json=" + (dir / "r.json").string()});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(out.exit_code, 3) << out.out << out.err;
  EXPECT_LT(took, std::chrono::seconds(2)) << "generous: a refused connection takes microseconds";
  EXPECT_THAT(out.out, HasSubstr("preflight: POST " + url + "/v1/completions could not connect"));
  EXPECT_THAT(out.out, HasSubstr("nothing was measured (--no-preflight or target.preflight: false skips this check)"));
  const auto result = read_json(dir / "r.json");
  EXPECT_EQ(result["verdict"], "error");
  EXPECT_TRUE(result["run"].is_null());
  EXPECT_TRUE(result["warmup"].is_null());

  // The same failure counted by a listening server: one attempt, not a stream of them.
  CannedServer empty_404("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  auto wrong = llmd::test::run_bench({small_scenario(dir, "model: m\n").string(), "--target", empty_404.url(), "-q"});
  EXPECT_EQ(wrong.exit_code, 3) << wrong.out << wrong.err;
  EXPECT_LE(empty_404.requests(), 3u);
  EXPECT_EQ(empty_404.requests(), 1u);
  EXPECT_THAT(wrong.out, HasSubstr("wrong Host?"));
}

// --sim-* flags configure the embedded simulator only: with a target they warn (stderr and a
// report note) and change nothing.
TEST(RunTarget, SimFlagsWithATargetWarnAndHaveNoEffect) {
  SimProcess sim({"--pods", "1", "--time-scale", "0.01"});
  const auto dir = scratch_dir();
  auto out = llmd::test::run_bench({small_scenario(dir).string(), "--target", sim.gateway(), "--sim-error-rate", "1",
                                    "--sim-pods", "3", "-q", "--out", "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("llmd-bench: warning: --sim-pods has no effect with --target: the embedded simulator "
                                 "is not started"));
  EXPECT_THAT(out.err, HasSubstr("llmd-bench: warning: --sim-error-rate has no effect with --target"));
  const auto notes = read_json(dir / "r.json")["notes"].dump();
  EXPECT_THAT(notes, HasSubstr("--sim-error-rate has no effect with --target"));
  EXPECT_EQ(llmd::test::phase_total(read_json(dir / "r.json"))["counts"]["failed"], 0);
}
