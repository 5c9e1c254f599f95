#include "kube/pod_discovery.hpp"

#include <gtest/gtest.h>

namespace llmd::kube {
namespace {

// One pod item for `kubectl get pods -o json`.
std::string pod_item(const std::string& name, const std::string& phase, const std::string& ready,
                     const std::string& extra_metadata = "", const std::string& container = "vllm") {
  return R"({"metadata":{"name":")" + name + R"(","namespace":"llm-d","uid":"u-)" + name + "\"" + extra_metadata +
         R"(,"ownerReferences":[{"kind":"ReplicaSet","name":"decode-5d8f"}]},"spec":{"containers":[{"name":")" +
         container + R"(","ports":[{"containerPort":8200,"name":"metrics"}]}]},"status":{"phase":")" + phase +
         R"(","conditions":[{"type":"Ready","status":")" + ready + R"(","reason":"ContainersNotReady"}]}})";
}

TEST(PodDiscoveryParse, ReadsNamesPortsOwnersAndReadiness) {
  auto pods = parse_pod_list(R"({"kind":"List","items":[)" + pod_item("decode-0", "Running", "True") + "]}", "vllm");
  ASSERT_TRUE(pods.has_value()) << pods.error();
  ASSERT_EQ(pods->size(), 1u);
  const PodInfo& pod = pods->front();
  EXPECT_EQ(pod.name, "decode-0");
  EXPECT_EQ(pod.namespace_name, "llm-d");
  EXPECT_EQ(pod.uid, "u-decode-0");
  EXPECT_TRUE(pod.ready);
  EXPECT_EQ(pod.not_ready_reason, "");
  ASSERT_EQ(pod.ports.size(), 1u);
  EXPECT_EQ(pod.ports[0].port, 8200);
  EXPECT_EQ(pod.ports[0].name, "metrics");
  ASSERT_EQ(pod.owners.size(), 1u);
  EXPECT_EQ(pod.owners[0].kind, "ReplicaSet");
}

TEST(PodDiscoveryParse, GivesTheReasonAPodIsNotScraped) {
  const std::string list = R"({"items":[)" + pod_item("a", "Pending", "False") + "," +
                           pod_item("b", "Running", "False") + "," +
                           pod_item("c", "Running", "True", R"(,"deletionTimestamp":"2026-01-01T00:00:00Z")") + "," +
                           pod_item("d", "Running", "True", "", "sidecar") + "]}";
  auto pods = parse_pod_list(list, "vllm");
  ASSERT_TRUE(pods.has_value()) << pods.error();
  ASSERT_EQ(pods->size(), 4u);
  EXPECT_EQ((*pods)[0].not_ready_reason, "phase Pending");
  EXPECT_EQ((*pods)[1].not_ready_reason, "Running but not Ready (ContainersNotReady)");
  EXPECT_EQ((*pods)[2].not_ready_reason, "terminating (being deleted)");
  EXPECT_EQ((*pods)[3].not_ready_reason, "no container \"vllm\" (containers: sidecar): set cache.container");
}

TEST(PodDiscoveryParse, RejectsTextThatIsNotAPodList) {
  auto pods = parse_pod_list("error: You must be logged in", "vllm");
  ASSERT_FALSE(pods.has_value());
  EXPECT_EQ(pods.error(),
            "kubectl did not print a pod list (expected JSON with \"items\"), got \"error: You must be logged in\"");
}

}  // namespace
}  // namespace llmd::kube
