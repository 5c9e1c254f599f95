#include "run/churn_actions.hpp"

#include <memory>

#include <fmt/format.h>

#include "engine/preflight.hpp"
#include "kube/kube_sources.hpp"
#include "kube/kubectl.hpp"
#include "util/url_authority.hpp"

namespace llmd::run {

namespace {

constexpr std::string_view k_restart_path = "/admin/restart";

const std::atomic<bool> k_never{false};

util::Result<std::string> restart_pod(const scenario::Scenario& pod_scenario, const std::atomic<bool>* cancel,
                                      const scenario::ChurnEvent& event, const std::string& source) {
  const std::string origin = url_origin(source);
  if (origin.empty()) {
    return util::fail(fmt::format("restart_pod {}: no HTTP metrics URL for this pod (its source is \"{}\"); restart_pod "
                                  "needs the embedded simulator or cache.urls",
                                  event.pod, source));
  }
  const engine::TargetAccess access{&pod_scenario, origin, "", cancel != nullptr ? cancel : &k_never};
  auto exchanged = engine::exchange(access, k_restart_path, /*get=*/false, "");
  const std::string what = fmt::format("POST {}{}", origin, k_restart_path);
  if (!exchanged) {
    return util::fail(fmt::format("{}: {}", what, exchanged.error()));
  }
  if (exchanged->http_status == 0) {
    return util::fail(fmt::format("{}: no answer: {}", what, exchanged->curl_error));
  }
  if (exchanged->http_status < 200 || exchanged->http_status > 299) {
    return util::fail(fmt::format("{} answered HTTP {} {}; is it a simulator pod (llmd-bench sim)?", what,
                                  exchanged->http_status, exchanged->body.substr(0, 200)));
  }
  return fmt::format("{}: HTTP {}", what, exchanged->http_status);
}

util::Result<std::string> delete_pod(const scenario::CacheSpec& cache, const std::atomic<bool>* cancel,
                                     const scenario::ChurnEvent& event) {
  const kube::KubeOptions options = kube::kube_options(cache);
  kube::Kubectl kubectl(kube::kube_target(cache.kubernetes, options), options.kubectl_timeout);
  kubectl.set_cancel_flag(cancel);
  const std::vector<std::string> args = {"delete", "pod", event.pod, "--wait=false"};
  auto output = kubectl.run(args);
  if (!output) {
    return util::fail(output.error());
  }
  return fmt::format("`{}`: {}", kube::display_command(kubectl.argv(args)), output->empty() ? "done" : *output);
}

}  // namespace

std::string url_origin(std::string_view url) {
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return {};
  }
  const util::UrlAuthority authority = util::find_authority(url);
  return std::string(url.substr(0, authority.end));
}

EventAction make_event_action(const scenario::Scenario& scenario, const std::atomic<bool>* cancel) {
  // A pod is addressed by its own URL: no gateway Host header, no gateway headers, a short timeout.
  auto pod_scenario = std::make_shared<scenario::Scenario>(scenario);
  pod_scenario->target.host.clear();
  pod_scenario->target.headers.clear();
  pod_scenario->target.request_timeout = std::chrono::seconds(30);
  return [pod_scenario, cancel](const scenario::ChurnEvent& event, const std::string& source) -> util::Result<std::string> {
    switch (event.action) {
      case scenario::ChurnEvent::Action::restart_pod: return restart_pod(*pod_scenario, cancel, event, source);
      case scenario::ChurnEvent::Action::delete_pod: return delete_pod(pod_scenario->cache, cancel, event);
    }
    return util::fail("unknown event action");
  };
}

}  // namespace llmd::run
