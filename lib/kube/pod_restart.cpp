#include "kube/pod_restart.hpp"
#include "util/json_text.hpp"

#include <algorithm>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace llmd::kube {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

double seconds(std::chrono::milliseconds duration) { return static_cast<double>(duration.count()) / 1000.0; }

// The Deployment owning a pod through its ReplicaSet.
util::Result<std::string> owning_deployment(const Kubectl& kubectl, const PodInfo& pod) {
  const auto owner = std::find_if(pod.owners.begin(), pod.owners.end(),
                                  [](const OwnerReference& ref) { return ref.kind == "ReplicaSet"; });
  if (owner == pod.owners.end()) {
    const std::string kind = pod.owners.empty() ? "nothing" : pod.owners.front().kind + "/" + pod.owners.front().name;
    return util::fail(fmt::format(
        "pod {} is owned by {}, not a Deployment's ReplicaSet: restart by deleting pods instead", pod.name, kind));
  }
  auto text = kubectl.run({"get", "replicaset", owner->name, "-o", "json"});
  if (!text) {
    return util::fail(text.error());
  }
  // Read without throwing: an answer of another shape is "no owning Deployment".
  auto parsed = util::parse_json_bounded(*text);
  const nlohmann::json replica_set = parsed ? std::move(*parsed) : nlohmann::json();
  const auto string_at = [](const nlohmann::json& object, const char* key) {
    const auto it = object.is_object() ? object.find(key) : object.end();
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const auto metadata = replica_set.is_object() ? replica_set.find("metadata") : replica_set.end();
  if (metadata != replica_set.end() && metadata->is_object()) {
    const auto refs = metadata->find("ownerReferences");
    for (const auto& ref : refs != metadata->end() && refs->is_array() ? *refs : nlohmann::json::array()) {
      if (string_at(ref, "kind") == "Deployment" && !string_at(ref, "name").empty()) {
        return string_at(ref, "name");
      }
    }
  }
  return util::fail(
      fmt::format("replicaset {} (owner of pod {}) has no owning Deployment: restart by deleting pods instead",
                  owner->name, pod.name));
}

util::Result<std::vector<std::string>> start_restart(const Kubectl& kubectl, const std::vector<PodInfo>& pods,
                                                     RestartMode mode) {
  std::vector<std::string> restarted;
  if (mode == RestartMode::delete_pods) {
    std::vector<std::string> args = {"delete", "pod", "--wait=false"};
    for (const PodInfo& pod : pods) {
      args.push_back(pod.name);
      restarted.push_back(pod.name);
    }
    if (auto done = kubectl.run(args); !done) {
      return util::fail(done.error());
    }
    return restarted;
  }
  std::set<std::string> deployments;
  for (const PodInfo& pod : pods) {
    auto deployment = owning_deployment(kubectl, pod);
    if (!deployment) {
      return util::fail(deployment.error());
    }
    deployments.insert(*deployment);
  }
  for (const std::string& deployment : deployments) {
    if (auto done = kubectl.run({"rollout", "restart", "deployment/" + deployment}); !done) {
      return util::fail(done.error());
    }
    restarted.push_back("deployment/" + deployment);
  }
  return restarted;
}

// Ready pods that are not among `old_uids`, and how many of them answered /metrics.
struct PollResult {
  std::vector<std::string> answering;
  std::string status;  // for progress and the timeout error
};

PollResult poll_once(const scenario::KubernetesSpec& spec, const KubeOptions& options, const Kubectl& kubectl,
                     const std::set<std::string>& old_uids, const std::atomic<bool>* stop) {
  PollResult result;
  auto pods = discover_pods(kubectl, spec.selector, spec.container);
  if (!pods) {
    result.status = pods.error();
    return result;
  }
  PodList fresh;
  std::size_t waiting = 0;
  for (const PodInfo& pod : pods->ready) {
    if (old_uids.count(pod.uid) != 0) {
      ++waiting;  // an old pod still Ready (its deletion or rollout has not reached it yet)
    } else {
      fresh.ready.push_back(pod);
    }
  }
  const std::size_t not_ready = pods->not_ready.size() + waiting;
  const std::size_t ready = fresh.ready.size();
  if (ready != 0) {
    auto source = make_source_for(spec, options, std::move(fresh));
    source->set_abort_flag(stop);
    for (const scrape::PodScrape& scraped : source->scrape_all()) {
      if (scraped.text) {
        result.answering.push_back(scraped.pod);
      }
    }
  }
  result.status =
      fmt::format("{} Ready, {} answering /metrics, {} old or not Ready", ready, result.answering.size(), not_ready);
  return result;
}

}  // namespace

util::Result<RestartSummary> restart_pods(const scenario::KubernetesSpec& spec, const KubeOptions& options,
                                          const RestartOptions& restart) {
  Kubectl kubectl(kube_target(spec, options), options.kubectl_timeout);
  kubectl.set_cancel_flag(restart.stop);
  auto pods = discover_pods(kubectl, spec.selector, spec.container);
  if (!pods) {
    return util::fail(pods.error());
  }
  std::vector<PodInfo> selected = pods->ready;
  selected.insert(selected.end(), pods->not_ready.begin(), pods->not_ready.end());
  std::set<std::string> old_uids;
  for (const PodInfo& pod : selected) {
    old_uids.insert(pod.uid);
  }
  RestartSummary summary;
  auto restarted = start_restart(kubectl, selected, restart.mode);
  if (!restarted) {
    return util::fail(restarted.error());
  }
  summary.restarted = std::move(*restarted);
  const auto started = Clock::now();
  for (;;) {
    PollResult poll = poll_once(spec, options, kubectl, old_uids, restart.stop);
    const std::string line =
        fmt::format("restart: waiting for {} replacement pods: {} ({:.0f} s of {:.0f} s)", selected.size(), poll.status,
                    seconds(since(started)), seconds(restart.timeout));
    if (restart.progress) {
      restart.progress(line);
    }
    if (poll.answering.size() >= selected.size()) {
      summary.replacements = std::move(poll.answering);
      summary.waited = since(started);
      return summary;
    }
    if (since(started) + restart.poll_interval > restart.timeout) {
      return util::fail(fmt::format(
          "pods matching selector \"{}\" in {} did not come back within {:g} s after restarting {}: {}; check "
          "`kubectl get pods{} -l {}`",
          spec.selector, describe_namespace(kubectl.target()), seconds(restart.timeout),
          fmt::join(summary.restarted, ", "), poll.status,
          spec.namespace_name.empty() ? "" : " -n " + shell_quote(spec.namespace_name), shell_quote(spec.selector)));
    }
    const auto next_poll = Clock::now() + restart.poll_interval;
    while (Clock::now() < next_poll && !(restart.stop != nullptr && restart.stop->load())) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (restart.stop != nullptr && restart.stop->load()) {
      return util::fail(fmt::format("interrupted (Ctrl-C) after {:.0f} s of waiting for the replacements of {}: {}",
                                    seconds(since(started)), fmt::join(summary.restarted, ", "), poll.status));
    }
  }
}

}  // namespace llmd::kube
