// scripts/k8s: the Tekton Task, Pipeline and RBAC parse, and agree with the binary. The Task's
// param -> flag mapping is read from the YAML (env var per param, `opt --flag "${VAR}"` lines in
// the run step's script) and each flag is looked up in `llmd-bench run --help`; the results must
// be exactly the files --tekton-results writes. Renaming a flag or a param alone fails here.
#include <chrono>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/kube_flags.hpp"
#include "cli/cli_test_support.hpp"
#include "report/tekton_results.hpp"

using testing::HasSubstr;

namespace {

const std::string k_k8s_dir = std::string(LLMD_SOURCE_DIR) + "/scripts/k8s/";

// Params that are not `run` flags: the positional scenario, the step image, the gate step's switch.
const std::set<std::string> k_params_without_flag = {"scenario", "image", "fail-on-gate"};

// Every manifest and script in scripts/k8s.
const std::vector<std::string> k_k8s_files = {"tekton-task.yaml",  "cache-hit-pipeline.yaml", "cache-hit-pipelinerun.yaml",
                                              "rbac.yaml",         "rbac-exec.yaml",          "rbac-restart.yaml",
                                              "rbac-cache-state.yaml", "Containerfile",     "README.md", "shards-job.yaml",
                                              "cache-hit-pipeline-sharded.yaml"};

// Kubernetes flags the Task already passes but `llmd-bench run` does not have yet (the lead wires
// them through cli/kube_flags.hpp). The test REQUIRES them to be missing today: once one exists,
// it fails, as a reminder to drop it from this list.
const std::set<std::string> k_flags_not_yet_implemented = {};

YAML::Node load(const std::string& file) { return YAML::LoadFile(k_k8s_dir + file); }

YAML::Node step_named(const YAML::Node& task_spec, const std::string& name) {
  for (const auto& step : task_spec["steps"]) {
    if (step["name"].as<std::string>() == name) {
      return step;
    }
  }
  ADD_FAILURE() << "no step " << name;
  return YAML::Node();
}

// param -> flag, from the run step: env {name: VAR, value: $(params.X)} and `opt|flag --F "${VAR}"`.
std::map<std::string, std::string> param_flags(const YAML::Node& run_step) {
  std::map<std::string, std::string> env_param;
  const std::regex param_ref(R"(^\$\(params\.([a-z0-9-]+)\)$)");
  for (const auto& env : run_step["env"]) {
    std::smatch m;
    const auto value = env["value"].as<std::string>();
    if (std::regex_match(value, m, param_ref)) {
      env_param[env["name"].as<std::string>()] = m[1];
    }
  }
  std::map<std::string, std::string> flags;
  const std::regex line(R"(^\s*(opt|flag) (--[a-z0-9-]+) "\$\{([A-Z_]+)\}"\s*$)");
  std::istringstream script(run_step["script"].as<std::string>());
  for (std::string text; std::getline(script, text);) {
    std::smatch m;
    if (std::regex_match(text, m, line)) {
      EXPECT_TRUE(env_param.count(m[3])) << "script uses ${" << m[3] << "}, which no env entry maps to a param";
      flags[env_param[m[3]]] = m[2];
    }
  }
  return flags;
}

bool help_has_flag(const std::string& help, const std::string& flag) {
  return std::regex_search(help, std::regex("(^|[ ,])" + flag + "([ ,=\n]|$)"));
}

std::string run_help() {
  auto out = llmd::test::bench({"run", "--help"});
  EXPECT_EQ(out.exit_code, 0) << out.err;
  return out.out;
}

YAML::Node param_named(const YAML::Node& params, const std::string& name) {
  for (const auto& param : params) {
    if (param["name"].as<std::string>() == name) {
      return param;
    }
  }
  ADD_FAILURE() << "no param " << name;
  return YAML::Node();
}

// The Task's run step as a runnable script: each $(results.NAME.path) is DIR/NAME (as Tekton
// substitutes /tekton/results/NAME), and `llmd-bench` is found on PATH (bin_dir holds a link).
std::filesystem::path runnable_task_script(const std::filesystem::path& dir,
                                           const std::filesystem::path& binary = LLMD_BENCH_BINARY) {
  const auto task = load("tekton-task.yaml");
  std::string script = step_named(task["spec"], "run")["script"].as<std::string>();
  EXPECT_EQ(script.find("$(params."), std::string::npos) << "the script must read params from env vars only";
  script = std::regex_replace(script, std::regex(R"(\$\(results\.([a-z0-9-]+)\.path\))"), (dir / "results").string() + "/$1");
  EXPECT_EQ(script.find("$("), script.find("$(dirname")) << "a Tekton variable is left: " << script;
  std::filesystem::create_directories(dir / "results");
  std::filesystem::create_directories(dir / "bin");
  std::filesystem::create_symlink(binary, dir / "bin" / "llmd-bench");
  return llmd::test::write_text(dir / "run-step.sh", script);
}

// Runs the Task's run step with the env vars of its params: `params` set, every other one "" (its
// default is "" or "false" but for restart-pods "false"), as the Tekton step would get them, plus
// `extra_env` (e.g. KUBERNETES_SERVICE_HOST).
llmd::test::RunOutput run_task_step(const std::filesystem::path& dir, const std::map<std::string, std::string>& env_values,
                                    const std::vector<std::string>& extra_env,
                                    const std::filesystem::path& binary = LLMD_BENCH_BINARY) {
  const auto script = runnable_task_script(dir, binary);
  const auto task = load("tekton-task.yaml");
  std::vector<std::string> argv = {"/usr/bin/env", "-i", "PATH=" + (dir / "bin").string() + ":/usr/bin:/bin"};
  const std::regex param_ref(R"(^\$\(params\.([a-z0-9-]+)\)$)");
  for (const auto& env : step_named(task["spec"], "run")["env"]) {
    const auto name = env["name"].as<std::string>();
    std::smatch m;
    const auto value = env["value"].as<std::string>();
    std::string assigned;
    if (env_values.count(name) > 0) {
      assigned = env_values.at(name);
    } else if (std::regex_match(value, m, param_ref)) {
      assigned = param_named(task["spec"]["params"], m[1])["default"].as<std::string>();
    }  // $(workspaces.reports.bound) etc.: "" (not bound)
    argv.push_back(name + "=" + assigned);
  }
  argv.insert(argv.end(), extra_env.begin(), extra_env.end());
  argv.insert(argv.end(), {"bash", script.string()});
  return llmd::test::run_to_completion(argv, std::chrono::seconds(60));
}

// `(--via a|b)` in the Task's description, `a | b (...)` in the Pipeline's: the documented values.
std::set<std::string> documented_vias(const std::string& description, const std::regex& pattern) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(description, m, pattern)) << description;
  std::set<std::string> values;
  const std::regex word("[a-z]+");
  const std::string list = m[1];
  for (auto it = std::sregex_iterator(list.begin(), list.end(), word); it != std::sregex_iterator(); ++it) {
    values.insert(it->str());
  }
  return values;
}

// "group/resource" -> verbs, for every rule of a Role document.
std::map<std::string, std::set<std::string>> role_verbs(const YAML::Node& role) {
  std::map<std::string, std::set<std::string>> verbs;
  for (const auto& rule : role["rules"]) {
    for (const auto& group : rule["apiGroups"]) {
      for (const auto& resource : rule["resources"]) {
        for (const auto& verb : rule["verbs"]) {
          verbs[group.as<std::string>() + "/" + resource.as<std::string>()].insert(verb.as<std::string>());
        }
      }
    }
  }
  return verbs;
}

// The Role and RoleBinding of an RBAC file (after an optional ServiceAccount): the binding must
// give that Role to ServiceAccount llmd-bench. Returns the Role's verbs.
std::map<std::string, std::set<std::string>> bound_role(const std::vector<YAML::Node>& docs, std::size_t first) {
  EXPECT_EQ(docs.size(), first + 2);
  if (docs.size() != first + 2) {
    return {};
  }
  const auto& role = docs[first];
  const auto& binding = docs[first + 1];
  EXPECT_EQ(role["kind"].as<std::string>(), "Role");
  EXPECT_EQ(binding["kind"].as<std::string>(), "RoleBinding");
  EXPECT_EQ(binding["roleRef"]["kind"].as<std::string>(), "Role");
  EXPECT_EQ(binding["roleRef"]["name"].as<std::string>(), role["metadata"]["name"].as<std::string>());
  EXPECT_EQ(binding["subjects"][0]["kind"].as<std::string>(), "ServiceAccount");
  EXPECT_EQ(binding["subjects"][0]["name"].as<std::string>(), "llmd-bench");
  return role_verbs(role);
}

}  // namespace

TEST(TektonTask, ResultsAreExactlyTheFilesTektonResultsWrites) {
  const auto task = load("tekton-task.yaml");
  EXPECT_EQ(task["kind"].as<std::string>(), "Task");
  EXPECT_EQ(task["metadata"]["name"].as<std::string>(), "llmd-bench");
  std::vector<std::string> results;
  for (const auto& result : task["spec"]["results"]) {
    results.push_back(result["name"].as<std::string>());
  }
  EXPECT_THAT(results, testing::ElementsAreArray(llmd::report::k_tekton_result_names));
  const auto script = step_named(task["spec"], "run")["script"].as<std::string>();
  // /tekton/results/NAME: the binary gets the folder of the result files.
  EXPECT_THAT(script, HasSubstr(R"x(results_dir="$(dirname "$(results.verdict.path)")")x"));
  EXPECT_THAT(script, HasSubstr(R"x(--tekton-results "${results_dir}")x"));
  EXPECT_THAT(script, HasSubstr(R"x(args=(run "${SCENARIO}")x"));
}

TEST(TektonTask, EveryParamMapsToAFlagOfRun) {
  const auto task = load("tekton-task.yaml");
  const auto flags = param_flags(step_named(task["spec"], "run"));
  const std::string help = run_help();
  ASSERT_THAT(help, HasSubstr("--tekton-results"));
  std::set<std::string> params;
  for (const auto& param : task["spec"]["params"]) {
    const auto name = param["name"].as<std::string>();
    params.insert(name);
    if (k_params_without_flag.count(name) > 0) {
      EXPECT_EQ(flags.count(name), 0u) << name;
      continue;
    }
    ASSERT_EQ(flags.count(name), 1u) << "param " << name << " is passed to no flag in the run step's script";
    const auto& flag = flags.at(name);
    if (k_flags_not_yet_implemented.count(flag) > 0) {
      EXPECT_FALSE(help_has_flag(help, flag))
          << flag << " now exists in `llmd-bench run`: remove it from k_flags_not_yet_implemented";
    } else {
      EXPECT_TRUE(help_has_flag(help, flag)) << "param " << name << " maps to " << flag << ", which `run` does not have";
    }
  }
  for (const auto& [param, flag] : flags) {
    EXPECT_EQ(params.count(param), 1u) << "the script passes $(params." << param << ") which the Task does not declare";
  }
  EXPECT_EQ(flags.at("time-scale"), "--time-scale");
  EXPECT_EQ(flags.at("allow-simulator"), "--allow-simulator");
  EXPECT_EQ(param_named(task["spec"]["params"], "allow-simulator")["default"].as<std::string>(), "false");
  EXPECT_EQ(flags.at("restart-pods"), "--restart-pods");
  for (const auto& flag : {"--quiet", "--out"}) {
    EXPECT_TRUE(help_has_flag(help, flag)) << flag;
  }
}

TEST(TektonTask, TheMappingReaderSeesARenamedFlag) {
  YAML::Node step = YAML::Load(R"(
env: [{name: TARGET, value: $(params.target)}]
script: |
  opt --target-url "${TARGET}"
)");
  const auto flags = param_flags(step);
  ASSERT_EQ(flags.count("target"), 1u);
  EXPECT_FALSE(help_has_flag(run_help(), flags.at("target")));
}

TEST(TektonPipeline, RunsTheTaskAfterAnOptionalRestartAndRepeatsItsResults) {
  const auto pipeline = load("cache-hit-pipeline.yaml");
  const auto task = load("tekton-task.yaml");
  EXPECT_EQ(pipeline["kind"].as<std::string>(), "Pipeline");
  EXPECT_EQ(pipeline["metadata"]["name"].as<std::string>(), "cache-hit-pipeline");
  std::set<std::string> task_params;
  for (const auto& param : task["spec"]["params"]) {
    task_params.insert(param["name"].as<std::string>());
  }
  const auto& tasks = pipeline["spec"]["tasks"];
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0]["name"].as<std::string>(), "restart");
  EXPECT_EQ(tasks[0]["when"][0]["input"].as<std::string>(), "$(params.restart-deployment)");
  EXPECT_EQ(tasks[1]["name"].as<std::string>(), "run");
  EXPECT_EQ(tasks[1]["taskRef"]["name"].as<std::string>(), "llmd-bench");
  EXPECT_EQ(tasks[1]["runAfter"][0].as<std::string>(), "restart");
  for (const auto& param : tasks[1]["params"]) {
    EXPECT_EQ(task_params.count(param["name"].as<std::string>()), 1u) << param["name"].as<std::string>();
  }
  std::vector<std::string> results;
  for (const auto& result : pipeline["spec"]["results"]) {
    const auto name = result["name"].as<std::string>();
    results.push_back(name);
    EXPECT_EQ(result["value"].as<std::string>(), "$(tasks.run.results." + name + ")");
  }
  EXPECT_THAT(results, testing::ElementsAreArray(llmd::report::k_tekton_result_names));
  EXPECT_EQ(pipeline["spec"]["finally"][0]["name"].as<std::string>(), "results");
}

TEST(KubernetesRbac, TheDefaultRoleIsReadOnly) {
  const auto docs = YAML::LoadAllFromFile(k_k8s_dir + "rbac.yaml");
  ASSERT_GE(docs.size(), 1u);
  EXPECT_EQ(docs[0]["kind"].as<std::string>(), "ServiceAccount");
  EXPECT_EQ(docs[0]["metadata"]["name"].as<std::string>(), "llmd-bench");
  const auto verbs = bound_role(docs, 1);
  // pods get/list (discovery) + pods/proxy get (--via proxy): nothing that changes or enters a pod.
  EXPECT_EQ(verbs, (std::map<std::string, std::set<std::string>>{{"/pods", {"get", "list", "watch"}},
                                                                  {"/pods/proxy", {"get"}}}));
}

TEST(KubernetesRbac, ExecAndRestartAreOptInRoles) {
  const auto exec = bound_role(YAML::LoadAllFromFile(k_k8s_dir + "rbac-exec.yaml"), 0);
  EXPECT_EQ(exec, (std::map<std::string, std::set<std::string>>{{"/pods/exec", {"create", "get"}}}));
  const auto restart = bound_role(YAML::LoadAllFromFile(k_k8s_dir + "rbac-restart.yaml"), 0);
  EXPECT_EQ(restart.at("/pods"), (std::set<std::string>{"delete"}));
  EXPECT_THAT(restart.at("apps/deployments"), testing::IsSupersetOf({"get", "patch"}));
  EXPECT_THAT(restart.at("apps/replicasets"), testing::IsSupersetOf({"get", "list"}));
  EXPECT_EQ(restart.count("/pods/exec"), 0u);
  // cache_state reset/verify POST through the pod proxy: create on pods/proxy, nothing else.
  const auto cache_state = bound_role(YAML::LoadAllFromFile(k_k8s_dir + "rbac-cache-state.yaml"), 0);
  EXPECT_EQ(cache_state, (std::map<std::string, std::set<std::string>>{{"/pods/proxy", {"create"}}}));
  // Each file is named where the Task says what needs it.
  const auto task = llmd::test::read_text(k_k8s_dir + "tekton-task.yaml");
  EXPECT_THAT(task, HasSubstr("rbac-exec.yaml"));
  EXPECT_THAT(task, HasSubstr("rbac-restart.yaml"));
  EXPECT_THAT(task, HasSubstr("rbac-cache-state.yaml"));
  const auto readme = llmd::test::read_text(k_k8s_dir + "README.md");
  for (const auto* file : {"rbac.yaml", "rbac-exec.yaml", "rbac-restart.yaml", "rbac-cache-state.yaml", "fsGroup"}) {
    EXPECT_THAT(readme, HasSubstr(file));
  }
}

TEST(TektonPipelineRun, GivesTheReportsVolumeToTheImageUid) {
  const auto run = load("cache-hit-pipelinerun.yaml");
  const auto pipeline = load("cache-hit-pipeline.yaml");
  EXPECT_EQ(run["kind"].as<std::string>(), "PipelineRun");
  EXPECT_EQ(run["spec"]["pipelineRef"]["name"].as<std::string>(), pipeline["metadata"]["name"].as<std::string>());
  const auto& pod = run["spec"]["taskRunTemplate"];
  EXPECT_EQ(pod["serviceAccountName"].as<std::string>(), "llmd-bench");
  // The image's USER; fsGroup makes the kubelet give a root-owned volume to that group.
  const auto containerfile = llmd::test::read_text(k_k8s_dir + "Containerfile");
  ASSERT_THAT(containerfile, HasSubstr("USER 65532:65532"));
  // malloc's heap in huge pages (README "Page faults") in the image that runs, not the build stage.
  const auto runtime_stage = containerfile.substr(containerfile.rfind("\nFROM "));
  EXPECT_THAT(runtime_stage, HasSubstr("\nENV GLIBC_TUNABLES=glibc.malloc.hugetlb=1\n"));
  EXPECT_EQ(pod["podTemplate"]["securityContext"]["fsGroup"].as<int>(), 65532);
  EXPECT_EQ(pod["podTemplate"]["securityContext"]["runAsUser"].as<int>(), 65532);
  std::set<std::string> pipeline_params;
  for (const auto& param : pipeline["spec"]["params"]) {
    pipeline_params.insert(param["name"].as<std::string>());
  }
  for (const auto& param : run["spec"]["params"]) {
    EXPECT_EQ(pipeline_params.count(param["name"].as<std::string>()), 1u) << param["name"].as<std::string>();
  }
  EXPECT_EQ(run["spec"]["workspaces"][0]["name"].as<std::string>(), "reports");
}

TEST(KubernetesManifests, NoImageFromDockerHubBitnami) {
  // docker.io/bitnami removed its versioned tags in 2025: a manifest naming one cannot be pulled.
  const std::regex bitnami(R"((docker\.io/)?bitnami/)");
  for (const auto& file : k_k8s_files) {
    EXPECT_FALSE(std::regex_search(llmd::test::read_text(k_k8s_dir + file), bitnami)) << file;
  }
  // The restart step runs in the llmd-bench image (kubectl from registry.k8s.io, Containerfile).
  const auto pipeline = load("cache-hit-pipeline.yaml");
  EXPECT_EQ(pipeline["spec"]["tasks"][0]["params"][3]["name"].as<std::string>(), "image");
  EXPECT_EQ(pipeline["spec"]["tasks"][0]["params"][3]["value"].as<std::string>(), "$(params.image)");
}

TEST(Containerfile, BuildsOnDebianWithTheSetupAndBuildScripts) {
  const auto text = llmd::test::read_text(k_k8s_dir + "Containerfile");
  EXPECT_THAT(text, HasSubstr("FROM docker.io/library/debian:bookworm AS build"));
  EXPECT_THAT(text, HasSubstr("RUN scripts/setup.sh"));
  EXPECT_THAT(text, HasSubstr("scripts/build.sh -DCMAKE_BUILD_TYPE=Release -DLLMD_BUILD_TESTS=OFF"));
  EXPECT_THAT(text, HasSubstr("FROM docker.io/library/debian:bookworm-slim"));
  for (const auto* package : {"libcurl4", "libfmt9", "libyaml-cpp0.7", "ca-certificates"}) {
    EXPECT_THAT(text, HasSubstr(package));
  }
  EXPECT_THAT(text, HasSubstr("COPY --from=build /src/schema /usr/share/llmd-bench/schema"));
}

TEST(Containerfile, TakesAPinnedKubectlFromTheOfficialImage) {
  // Debian bookworm's kubectl is 1.20, outside the skew policy of any current API server.
  const auto text = llmd::test::read_text(k_k8s_dir + "Containerfile");
  std::smatch pin;
  ASSERT_TRUE(std::regex_search(text, pin, std::regex(R"(\nARG KUBECTL_VERSION=v1\.([0-9]+)\.[0-9]+\n)"))) << text;
  EXPECT_GE(std::stoi(pin[1]), 30);
  EXPECT_THAT(text, HasSubstr("FROM registry.k8s.io/kubectl:${KUBECTL_VERSION} AS kubectl"));
  EXPECT_THAT(text, HasSubstr("COPY --from=kubectl /bin/kubectl /usr/local/bin/kubectl"));
  EXPECT_EQ(text.find("COPY --from=build /usr/bin/kubectl"), std::string::npos);
  EXPECT_THAT(text, HasSubstr("skew"));
}

// scripts/image.sh: only --dry-run and its argument handling (no build tool, no network).
llmd::test::RunOutput image_sh(std::vector<std::string> args, const std::string& registry = "") {
  std::vector<std::string> argv = {"/usr/bin/env", "-u", "IMAGE_TOOL", "REGISTRY=" + registry, "bash",
                                   std::string(LLMD_SOURCE_DIR) + "/scripts/image.sh"};
  argv.insert(argv.end(), args.begin(), args.end());
  return llmd::test::run_to_completion(argv, std::chrono::seconds(30));
}

TEST(ImageScript, DryRunTagsWithTheProjectVersion) {
  const auto cmake = llmd::test::read_text(std::string(LLMD_SOURCE_DIR) + "/CMakeLists.txt");
  std::smatch version;
  ASSERT_TRUE(std::regex_search(cmake, version, std::regex(R"(project\(llmd-bench VERSION ([0-9.]+))")));
  ASSERT_EQ(version[1], LLMD_VERSION);
  const std::string root = LLMD_SOURCE_DIR;
  auto plain = image_sh({"--dry-run", "--tool", "podman"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, "podman build -f " + root + "/scripts/k8s/Containerfile -t llmd-bench:" + LLMD_VERSION + " " + root + "\n");
  auto pushed = image_sh({"--dry-run", "--tool", "docker", "--push", "--kubectl-version", "v1.33.2"}, "quay.io/team/");
  ASSERT_EQ(pushed.exit_code, 0) << pushed.err;
  EXPECT_EQ(pushed.out, "docker build -f " + root + "/scripts/k8s/Containerfile -t quay.io/team/llmd-bench:" + LLMD_VERSION +
                            " --build-arg KUBECTL_VERSION=v1.33.2 " + root + "\ndocker push quay.io/team/llmd-bench:" +
                            LLMD_VERSION + "\n");
}

TEST(ImageScript, BadArgumentsAreExit2AndNameTheProblem) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--dry-run", "--push"}, "--push needs --registry REG"},
      {{"--dry-run", "--frobnicate"}, "unknown argument \"--frobnicate\""},
      {{"--dry-run", "--registry"}, "--registry needs a value"},
      {{"--dry-run", "--kubectl-version", "1.29"}, "expected a registry.k8s.io/kubectl tag like v1."},
      {{"--dry-run", "--tool", "buildah"}, "--tool \"buildah\": expected podman or docker"},
  };
  for (const auto& [args, message] : cases) {
    auto out = image_sh(args);
    EXPECT_EQ(out.exit_code, 2) << args.back();
    EXPECT_THAT(out.err, HasSubstr(message)) << args.back();
    EXPECT_EQ(out.out, "") << args.back();
  }
}

TEST(TektonTask, EveryDocumentedViaIsAcceptedByTheFlag) {
  const auto task = load("tekton-task.yaml");
  const auto pipeline = load("cache-hit-pipeline.yaml");
  const auto task_vias = documented_vias(param_named(task["spec"]["params"], "via")["description"].as<std::string>(),
                                         std::regex(R"(\(--via ([a-z|]+)\))"));
  const auto pipeline_vias = documented_vias(
      param_named(pipeline["spec"]["params"], "via")["description"].as<std::string>(), std::regex(R"(^([a-z| ]+)\()"));
  EXPECT_EQ(task_vias, (std::set<std::string>{"proxy", "exec"}));
  EXPECT_EQ(pipeline_vias, task_vias);
  const std::string help = run_help();
  for (const auto& via : task_vias) {
    llmd::scenario::CacheSpec cache;
    llmd::cli::KubeFlags flags;
    flags.via = via;
    EXPECT_TRUE(llmd::cli::apply_kube_flags(cache, flags)) << via;
    EXPECT_THAT(help, HasSubstr(via)) << via;
  }
  llmd::scenario::CacheSpec cache;
  llmd::cli::KubeFlags flags;
  flags.via = "direct";  // documented once, never implemented: neither documented nor accepted now
  auto refused = llmd::cli::apply_kube_flags(cache, flags);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), "--via: unknown \"direct\"; expected proxy or exec");
}

TEST(TektonTaskScript, InAClusterWithoutATargetItRefusesAndPublishesVerdictError) {
  const auto dir = llmd::test::scratch_dir();
  const auto scenario = std::string(LLMD_SOURCE_DIR) + "/scenarios/smoke.yaml";
  const auto started = std::chrono::steady_clock::now();
  auto out = run_task_step(dir, {{"SCENARIO", scenario}}, {"KUBERNETES_SERVICE_HOST=10.96.0.1"});
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));  // refused, nothing run
  EXPECT_THAT(out.err, HasSubstr("KUBERNETES_SERVICE_HOST is set"));
  EXPECT_THAT(out.err, HasSubstr("--allow-simulator"));
  const auto results = dir / "results";
  EXPECT_EQ(llmd::test::read_text(results / "verdict"), "error");
  EXPECT_THAT(llmd::test::read_text(results / "reason"), HasSubstr("no target given"));
  EXPECT_EQ(llmd::test::read_text(results / "target"), "simulator");
  for (const auto& name : llmd::report::k_tekton_result_names) {
    EXPECT_TRUE(std::filesystem::exists(results / name)) << name;  // every result the Task declares
  }
}

TEST(TektonTaskScript, AllowSimulatorRunsTheSelfTestAndPublishesEveryResult) {
  const auto dir = llmd::test::scratch_dir();
  const auto scenario = llmd::test::write_text(dir / "tiny.yaml", R"(
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 32, suffix_tokens: 4}
  max_tokens: 2
load:
  - {name: loop, executor: iterations, vus: 1, iterations: 4}
sim: {timing: {time_scale: 0.01}}
)");
  auto out = run_task_step(dir, {{"SCENARIO", scenario.string()}, {"ALLOW_SIMULATOR", "true"}},
                           {"KUBERNETES_SERVICE_HOST=10.96.0.1"});
  EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("--allow-simulator"));  // the script's "+ llmd-bench ..." line
  const auto results = dir / "results";
  EXPECT_EQ(llmd::test::read_text(results / "verdict"), "pass");
  EXPECT_EQ(llmd::test::read_text(results / "target"), "simulator");
  EXPECT_EQ(llmd::test::read_text(results / "http-req-failed-rate"), "0.0000");
  EXPECT_NE(llmd::test::read_text(results / "ttft-p95-seconds"), "n/a");
  EXPECT_EQ(llmd::test::read_text(results / "reason"), "every gate passed");
}

TEST(TektonTaskScript, ABadScenarioFileStillPublishesVerdictError) {
  const auto dir = llmd::test::scratch_dir();
  const auto scenario = llmd::test::write_text(dir / "bad.yaml", "load:\n  - {executor: constant_vus}\n");
  auto out = run_task_step(dir, {{"SCENARIO", scenario.string()}, {"TARGET", "http://user:pw@gw.example:8080/v1?k=1"}}, {});
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  const auto results = dir / "results";
  EXPECT_EQ(llmd::test::read_text(results / "verdict"), "error");
  EXPECT_THAT(llmd::test::read_text(results / "reason"), HasSubstr("bad.yaml:2:"));
  EXPECT_EQ(llmd::test::read_text(results / "target"), "http://gw.example:8080/v1");
  EXPECT_EQ(llmd::test::read_text(results / "hit-rate"), "n/a");
}

TEST(TektonTaskScript, ABinaryThatDiesWithoutResultsStillLeavesVerdictError) {
  // A crash or a missing binary: the script's fallback writes verdict and reason itself.
  const auto dir = llmd::test::scratch_dir();
  const auto crashing = llmd::test::write_text(dir / "crashing-llmd-bench", "#!/bin/sh\nkill -9 $$\n");
  std::filesystem::permissions(crashing, std::filesystem::perms::owner_all);
  auto out = run_task_step(dir, {{"SCENARIO", "s.yaml"}, {"TARGET", "http://gw"}}, {}, crashing);
  EXPECT_EQ(out.exit_code, 137) << out.out << out.err;
  EXPECT_EQ(llmd::test::read_text(dir / "results" / "verdict"), "error");
  EXPECT_EQ(llmd::test::read_text(dir / "results" / "reason"), "llmd-bench exited with 137 without writing results");
}
