#include "cli/kube_flags.hpp"

#include <fmt/format.h>

namespace llmd::cli {

void add_kube_options(CLI::App& command, KubeFlags& flags, bool with_restart) {
  const scenario::KubernetesSpec defaults;
  command.add_option("--namespace", flags.namespace_name, "Kubernetes: namespace of the vLLM pods (default: the context's)");
  command.add_option("--selector", flags.selector, "Kubernetes: label selector of the vLLM pods (default " + defaults.selector + ")");
  command.add_option("--container", flags.container, "Kubernetes: container serving /metrics (default " + defaults.container + ")");
  command.add_option("--via", flags.via, "Kubernetes: scrape via proxy (API-server pod proxy) or exec (curl/wget in the container)");
  command.add_option("--port", flags.ports, "Kubernetes: metrics port to try, in order (repeatable; default 8200 8001 8000)")
      ->allow_extra_args(false);
  command.add_option("--kubeconfig", flags.kubeconfig, "Kubernetes: kubeconfig file (default: as kubectl)");
  command.add_option("--context", flags.context, "Kubernetes: kubeconfig context (default: the current one)");
  if (with_restart) {
    command.add_flag("--restart-pods", flags.restart_pods,
                     "Kubernetes: restart the selected pods and wait for fresh counters before the run");
  }
}

util::Result<void> apply_kube_flags(scenario::CacheSpec& cache, const KubeFlags& flags) {
  auto& k = cache.kubernetes;
  const bool any = flags.namespace_name || flags.selector || flags.container || flags.via || !flags.ports.empty() ||
                   flags.kubeconfig || flags.context || flags.restart_pods;
  if (!any) {
    return {};
  }
  cache.source = scenario::CacheSpec::Source::kubernetes;
  if (flags.namespace_name) k.namespace_name = *flags.namespace_name;
  if (flags.selector) k.selector = *flags.selector;
  if (flags.container) k.container = *flags.container;
  if (!flags.ports.empty()) k.ports = flags.ports;
  if (flags.kubeconfig) k.kubeconfig = *flags.kubeconfig;
  if (flags.context) k.context = *flags.context;
  if (flags.restart_pods) k.restart_pods = true;
  if (flags.via) {
    if (*flags.via == "proxy") {
      k.via = scenario::KubernetesSpec::Via::proxy;
    } else if (*flags.via == "exec") {
      k.via = scenario::KubernetesSpec::Via::exec;
    } else {
      return util::fail(fmt::format("--via: unknown \"{}\"; expected proxy or exec", *flags.via));
    }
  }
  if (k.selector.empty()) {
    return util::fail("--selector must not be empty");
  }
  return {};
}

}  // namespace llmd::cli
