#include "kube/pod_discovery.hpp"
#include "util/json_text.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace llmd::kube {

namespace {

using nlohmann::json;

std::string text_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& list_at(const json& object, const char* key) {
  static const json k_empty = json::array();
  auto it = object.find(key);
  return it != object.end() && it->is_array() ? *it : k_empty;
}

// The Ready condition's status and, when not "True", its reason/message.
void read_ready(const json& status, PodInfo& pod, std::string& ready_detail) {
  for (const json& condition : list_at(status, "conditions")) {
    if (text_at(condition, "type") == "Ready") {
      pod.ready = text_at(condition, "status") == "True";
      ready_detail = text_at(condition, "reason");
      if (const std::string message = text_at(condition, "message"); !message.empty()) {
        ready_detail += (ready_detail.empty() ? "" : ": ") + message;
      }
    }
  }
}

// A waiting container's reason (CrashLoopBackOff, ImagePullBackOff, ...), else "".
std::string waiting_reason(const json& status) {
  for (const json& container : list_at(status, "containerStatuses")) {
    auto state = container.find("state");
    if (state != container.end() && state->contains("waiting")) {
      return fmt::format("container {} waiting: {}", text_at(container, "name"),
                         text_at((*state)["waiting"], "reason"));
    }
  }
  return {};
}

std::string not_ready_reason(const PodInfo& pod, const std::string& ready_detail, const std::string& waiting,
                             std::string_view container) {
  if (pod.terminating) {
    return "terminating (being deleted)";
  }
  if (pod.phase != "Running") {
    return fmt::format("phase {}{}", pod.phase.empty() ? "unknown" : pod.phase, waiting.empty() ? "" : "; " + waiting);
  }
  if (!pod.ready) {
    const std::string detail = !ready_detail.empty() ? ready_detail : waiting;
    return fmt::format("Running but not Ready{}", detail.empty() ? "" : " (" + detail + ")");
  }
  if (!container.empty() &&
      std::find(pod.containers.begin(), pod.containers.end(), container) == pod.containers.end()) {
    return fmt::format("no container \"{}\" (containers: {}): set cache.container", container,
                       fmt::join(pod.containers, ", "));
  }
  return {};
}

PodInfo parse_pod(const json& item, std::string_view container) {
  PodInfo pod;
  const json& metadata = item.contains("metadata") ? item["metadata"] : json::object();
  const json& spec = item.contains("spec") ? item["spec"] : json::object();
  const json& status = item.contains("status") ? item["status"] : json::object();
  pod.name = text_at(metadata, "name");
  pod.namespace_name = text_at(metadata, "namespace");
  pod.uid = text_at(metadata, "uid");
  pod.terminating = metadata.contains("deletionTimestamp") && !metadata["deletionTimestamp"].is_null();
  for (const json& owner : list_at(metadata, "ownerReferences")) {
    pod.owners.push_back({text_at(owner, "kind"), text_at(owner, "name")});
  }
  for (const json& declared : list_at(spec, "containers")) {
    pod.containers.push_back(text_at(declared, "name"));
    for (const json& port : list_at(declared, "ports")) {
      if (auto number = port.find("containerPort");
          number != port.end() && number->is_number_unsigned() && number->get<std::uint64_t>() <= 65535) {
        pod.ports.push_back({pod.containers.back(), text_at(port, "name"), number->get<std::uint16_t>()});
      }
    }
  }
  pod.phase = text_at(status, "phase");
  pod.pod_ip = text_at(status, "podIP");
  std::string ready_detail;
  read_ready(status, pod, ready_detail);
  pod.not_ready_reason = not_ready_reason(pod, ready_detail, waiting_reason(status), container);
  return pod;
}

}  // namespace

std::string describe_namespace(const KubeTarget& target) {
  return target.namespace_name.empty() ? std::string("the current context's namespace")
                                       : fmt::format("namespace \"{}\"", target.namespace_name);
}

util::Result<std::vector<PodInfo>> parse_pod_list(std::string_view text, std::string_view container) {
  auto parsed = util::parse_json_bounded(text, util::JsonLimits{64, 5'000'000});  // ~25,000 pods
  if (!parsed && !parsed.error().starts_with("is not JSON")) {
    return util::fail(fmt::format("the pod list kubectl printed {}: narrow the selector", parsed.error()));
  }
  json document = parsed ? std::move(*parsed) : json(json::value_t::discarded);
  if (document.is_discarded() || !document.is_object() || !document.contains("items") ||
      !document["items"].is_array()) {
    const std::string start(text.substr(0, 80));
    return util::fail(
        fmt::format("kubectl did not print a pod list (expected JSON with \"items\"), got \"{}\"", start));
  }
  std::vector<PodInfo> pods;
  for (const json& item : document["items"]) {
    if (item.is_object()) {
      pods.push_back(parse_pod(item, container));
    }
  }
  return pods;
}

util::Result<PodList> discover_pods(const Kubectl& kubectl, const std::string& selector, std::string_view container) {
  std::vector<std::string> args = {"get", "pods", "-o", "json"};
  if (!selector.empty()) {
    args.insert(args.end(), {"-l", selector});
  }
  auto text = kubectl.run(args);
  if (!text) {
    return util::fail(fmt::format("cannot list pods in {}: {}", describe_namespace(kubectl.target()), text.error()));
  }
  auto pods = parse_pod_list(*text, container);
  if (!pods) {
    return util::fail(pods.error());
  }
  if (pods->empty()) {
    const std::string ns = kubectl.target().namespace_name;
    return util::fail(fmt::format(
        "no pods match selector \"{}\" in {}: check the namespace and selector with `kubectl get pods{} -l {}`",
        selector, describe_namespace(kubectl.target()), ns.empty() ? "" : " -n " + shell_quote(ns),
        shell_quote(selector)));
  }
  PodList list;
  for (PodInfo& pod : *pods) {
    (pod.not_ready_reason.empty() ? list.ready : list.not_ready).push_back(std::move(pod));
  }
  return list;
}

}  // namespace llmd::kube
