#include "run/cache_source.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "kube/kube_sources.hpp"
#include "kube/pod_restart.hpp"
#include "scrape/file_source.hpp"
#include "scrape/prometheus_source.hpp"
#include "util/redact.hpp"
#include "util/url_authority.hpp"

namespace llmd::run {

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
                                                                       const std::atomic<bool>* abort, const SayLine& say) {
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
    options.on_wait = say;
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

util::Result<void> restart_kubernetes_pods(const scenario::CacheSpec& cache, const std::atomic<bool>* stop,
                                           const SayLine& say) {
  kube::RestartOptions restart;
  restart.stop = stop;
  restart.progress = [&say](const std::string& line) {
    if (say) say("restart: " + line);
  };
  auto done = kube::restart_pods(cache.kubernetes, kube::kube_options(cache), restart);
  if (!done) {
    return util::fail(done.error());
  }
  if (say) {
    say(fmt::format("restart: {} restarted; {} pods Ready with fresh counters after {} ms", fmt::join(done->restarted, ", "),
                    done->replacements.size(), done->waited.count()));
  }
  return {};
}

}  // namespace llmd::run
