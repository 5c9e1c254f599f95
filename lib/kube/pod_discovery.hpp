#pragma once
// Finds the pods to scrape: `kubectl get pods -l SELECTOR -o json`, parsed with nlohmann/json.
// Pods that are Running and Ready (and not being deleted) are scraped; the others are reported
// with the reason, never scraped.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kube/kubectl.hpp"
#include "util/result.hpp"

namespace llmd::kube {

struct ContainerPort {
  std::string container;   // the container declaring it
  std::string name;        // port name ("" when unnamed)
  std::uint16_t port = 0;  // containerPort
};

struct OwnerReference {
  std::string kind;  // "ReplicaSet", "StatefulSet", ...
  std::string name;
};

struct PodInfo {
  std::string name;
  std::string namespace_name;
  std::string uid;                      // changes when a pod is replaced, even under the same name
  std::string phase;                    // status.phase: Pending, Running, Succeeded, Failed, Unknown
  std::string pod_ip;                   // status.podIP ("" before the pod has one)
  bool ready = false;                   // condition Ready is "True"
  bool terminating = false;             // metadata.deletionTimestamp is set
  std::vector<std::string> containers;  // spec.containers[].name, in order
  std::vector<ContainerPort> ports;     // spec.containers[].ports[]
  std::vector<OwnerReference> owners;   // metadata.ownerReferences
  std::string not_ready_reason;         // why it is not scraped ("" for a ready pod)
};

// Ready pods (to scrape) and the others (to report), each in the order kubectl listed them.
struct PodList {
  std::vector<PodInfo> ready;
  std::vector<PodInfo> not_ready;
};

// Parses the output of `kubectl get pods -o json` (a List or PodList). Fills not_ready_reason for
// pods that are not Running + Ready, are terminating, or (when `container` is not empty) have no
// container of that name. Error: the JSON is not a pod list.
util::Result<std::vector<PodInfo>> parse_pod_list(std::string_view json, std::string_view container);

// Lists the pods that match `selector` in the target's namespace. An empty list is an error naming
// the namespace and the selector and the kubectl command to check them with.
util::Result<PodList> discover_pods(const Kubectl& kubectl, const std::string& selector, std::string_view container);

// "namespace \"NS\"", or "the current context's namespace" when the target names none.
std::string describe_namespace(const KubeTarget& target);

}  // namespace llmd::kube
