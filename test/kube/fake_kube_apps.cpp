// FakeKubeApi's apps/v1 part: just enough for `kubectl rollout restart deployment/NAME`.
#include "kube/fake_kube_api.hpp"

namespace llmd::kube::test {

namespace {

namespace http = boost::beast::http;
using detail::answer;
using detail::status_json;
using nlohmann::json;

const json k_apps_group = {{"name", "apps"},
                           {"versions", json::array({{{"groupVersion", "apps/v1"}, {"version", "v1"}}})},
                           {"preferredVersion", {{"groupVersion", "apps/v1"}, {"version", "v1"}}}};

const json k_apps_resources = {{"kind", "APIResourceList"},
                               {"apiVersion", "v1"},
                               {"groupVersion", "apps/v1"},
                               {"resources", json::array({{{"name", "deployments"},
                                                           {"singularName", "deployment"},
                                                           {"namespaced", true},
                                                           {"kind", "Deployment"},
                                                           {"verbs", json::array({"get", "list", "patch"})},
                                                           {"shortNames", json::array({"deploy"})}},
                                                          {{"name", "replicasets"},
                                                           {"singularName", "replicaset"},
                                                           {"namespaced", true},
                                                           {"kind", "ReplicaSet"},
                                                           {"verbs", json::array({"get", "list"})},
                                                           {"shortNames", json::array({"rs"})}}})}};

json deployment_json(const std::string& ns, const std::string& name, int rollouts) {
  json annotations = json::object();
  if (rollouts > 0) {
    annotations["kubectl.kubernetes.io/restartedAt"] = "2026-01-01T00:00:0" + std::to_string(rollouts % 10) + "Z";
  }
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"uid", "deploy-" + name}, {"generation", rollouts + 1}}},
          {"spec",
           {{"replicas", 1},
            {"selector", {{"matchLabels", {{"llm-d.ai/role", "decode"}}}}},
            {"template",
             {{"metadata", {{"labels", {{"llm-d.ai/role", "decode"}}}, {"annotations", annotations}}},
              {"spec", {{"containers", json::array({{{"name", "vllm"}, {"image", "vllm/vllm-openai:latest"}}})}}}}}}},
          {"status", json::object()}};
}

}  // namespace

void FakeKubeApi::add_deployment(const std::string& name, const std::string& replica_set) {
  std::lock_guard lock(m_mutex);
  m_deployments.push_back({name, replica_set, 0});
}

int FakeKubeApi::rollouts(const std::string& name) const {
  std::lock_guard lock(m_mutex);
  for (const FakeDeployment& deployment : m_deployments) {
    if (deployment.name == name) {
      return deployment.rollouts;
    }
  }
  return 0;
}

FakeKubeApi::Response FakeKubeApi::apps_route(const Request& request, const std::string& path) {
  if (path == "/apis") {
    return answer(http::status::ok,
                  json{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", json::array({k_apps_group})}}.dump());
  }
  if (path == "/apis/apps/v1") {
    return answer(http::status::ok, k_apps_resources.dump());
  }
  // /apis/apps/v1/namespaces/NS/(replicasets|deployments)/NAME
  const std::string prefix = "/apis/apps/v1/namespaces/";
  std::vector<std::string> parts;
  for (std::size_t at = prefix.size(); path.rfind(prefix, 0) == 0 && at <= path.size();) {
    const std::size_t slash = std::min(path.find('/', at), path.size());
    parts.push_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  std::vector<std::string> backends;
  Response response = answer(http::status::not_found, status_json(404, "NotFound", "not found: " + path).dump());
  if (parts.size() == 3) {
    std::lock_guard lock(m_mutex);
    for (FakeDeployment& deployment : m_deployments) {
      if (parts[1] == "replicasets" && parts[2] == deployment.replica_set) {
        json replica_set = {
            {"apiVersion", "apps/v1"},
            {"kind", "ReplicaSet"},
            {"metadata",
             {{"name", parts[2]},
              {"namespace", parts[0]},
              {"ownerReferences",
               json::array({{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", deployment.name}}})}}}};
        response = answer(http::status::ok, replica_set.dump());
      } else if (parts[1] == "deployments" && parts[2] == deployment.name) {
        if (request.method() == http::verb::patch) {
          deployment.rollouts += 1;
          for (FakePod& pod : m_pods) {
            if (pod.owner_name == deployment.replica_set) {
              replace_pod(pod, backends);
            }
          }
        }
        response = answer(http::status::ok, deployment_json(parts[0], deployment.name, deployment.rollouts).dump());
      }
    }
  }
  for (const std::string& backend : backends) {
    plain_http("POST", backend + "/admin/restart");
  }
  return response;
}

}  // namespace llmd::kube::test
