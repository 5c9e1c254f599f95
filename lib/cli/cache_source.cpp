#include "cli/cache_source.hpp"

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "kube/kube_sources.hpp"
#include "kube/pod_restart.hpp"
#include "scrape/file_source.hpp"
#include "scrape/prometheus_source.hpp"
#include "util/console.hpp"
#include "util/redact.hpp"
#include "util/url_authority.hpp"

namespace llmd::cli {

std::string pod_name_from_url(const std::string& url) {
  return std::string(util::url_host_port(url));  // credentials are no part of a name that is printed
}

std::vector<scrape::PodUrl> pods_from_urls(const std::vector<std::string>& urls) {
  std::vector<scrape::PodUrl> pods;
  pods.reserve(urls.size());
  for (const auto& url : urls) {
    pods.push_back({pod_name_from_url(url), url});
  }
  return pods;
}

scrape::UrlSourceOptions url_source_options(const scenario::CacheSpec& cache) {
  scrape::UrlSourceOptions options;
  options.max_parallel = std::max<std::size_t>(1, cache.max_parallel_scrapes);
  options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cache.scrape_timeout);
  return options;
}

util::Result<std::string> prometheus_bearer_token(const scenario::PrometheusSpec& prometheus) {
  if (prometheus.bearer_token_env.empty()) {
    return std::string();
  }
  const char* value = std::getenv(prometheus.bearer_token_env.c_str());
  if (value == nullptr || *value == '\0') {
    return util::fail(fmt::format(
        "cache.bearer_token_env (--prometheus-token-env) names the environment variable {}, which is not set or "
        "empty; export it with the Prometheus bearer token (OpenShift: {}=$(oc create token SERVICEACCOUNT -n "
        "NAMESPACE), or the ServiceAccount token file in a pod), or remove bearer_token_env",
        prometheus.bearer_token_env, prometheus.bearer_token_env));
  }
  std::string token(value);
  util::add_secret(token);
  return token;
}

util::Result<std::unique_ptr<scrape::MetricsSource>> make_cache_source(const scenario::CacheSpec& cache,
                                                                       const std::vector<scrape::PodUrl>& embedded_pods,
                                                                       const std::atomic<bool>* abort) {
  using Source = scenario::CacheSpec::Source;
  std::unique_ptr<scrape::MetricsSource> source;
  if (cache.source == Source::urls) {
    source = std::make_unique<scrape::UrlSource>(pods_from_urls(cache.urls), url_source_options(cache));
  } else if (cache.source == Source::files) {
    std::vector<std::filesystem::path> paths(cache.files.begin(), cache.files.end());
    auto files = scrape::FileSource::open(paths);
    if (!files) {
      return util::fail(files.error());
    }
    source = std::make_unique<scrape::FileSource>(std::move(*files));
  } else if (cache.source == Source::kubernetes) {
    auto made = kube::make_kubernetes_source(cache.kubernetes, kube::kube_options(cache));
    if (!made) {
      return util::fail(made.error());
    }
    source = std::move(*made);
  } else if (cache.source == Source::prometheus) {
    scrape::PrometheusSourceOptions options;
    options.base_url = cache.prometheus.url;
    options.matcher = cache.prometheus.matcher;
    options.pod_label = cache.prometheus.pod_label;
    options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cache.scrape_timeout);
    options.scrape_interval = std::chrono::duration_cast<std::chrono::milliseconds>(cache.prometheus.scrape_interval);
    options.abort = abort;
    auto token = prometheus_bearer_token(cache.prometheus);
    if (!token) {
      return util::fail(token.error());
    }
    options.bearer_token = std::move(*token);
    options.insecure = cache.prometheus.insecure;
    options.ca_file = cache.prometheus.ca_file;
    options.on_wait = [](const std::string& line) { util::print_stderr(fmt::format("llmd-bench: {}\n", line)); };
    auto made = scrape::PrometheusSource::create(std::move(options));
    if (!made) {
      return util::fail(made.error());
    }
    source = std::make_unique<scrape::PrometheusSource>(std::move(*made));
  } else if (cache.source == Source::automatic && !embedded_pods.empty()) {
    source = std::make_unique<scrape::UrlSource>(embedded_pods, url_source_options(cache));
  }
  return source;
}

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

util::Result<void> restart_kubernetes_pods(const scenario::CacheSpec& cache, const std::atomic<bool>* stop) {
  kube::RestartOptions restart;
  restart.stop = stop;
  restart.progress = [](const std::string& line) { util::print_stderr(fmt::format("llmd-bench: restart: {}\n", line)); };
  auto done = kube::restart_pods(cache.kubernetes, kube::kube_options(cache), restart);
  if (!done) {
    return util::fail(done.error());
  }
  util::print_stderr(fmt::format("llmd-bench: restart: {} restarted; {} pods Ready with fresh counters after {} ms\n",
             fmt::join(done->restarted, ", "), done->replacements.size(), done->waited.count()));
  return {};
}

}  // namespace llmd::cli
