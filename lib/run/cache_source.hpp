#pragma once
// The one factory that turns a scenario's `cache:` section (plus the embedded simulator's pods,
// when there are any) into a scrape::MetricsSource. Shared by `run` (its cache-source stage),
// `scrape` and `diff`, so each cache source a scenario can name works the same in all three; and
// the pod restart of `restart:` / --restart-pods.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "scenario/scenario.hpp"
#include "scrape/metrics_source.hpp"
#include "scrape/url_source.hpp"
#include "util/result.hpp"

namespace llmd::run {

// Progress lines for the person at the terminal (e.g. "restart: pod-a deleted"), without the
// "llmd-bench: " prefix; the cli prints them on stderr. Empty: nothing is said.
using SayLine = std::function<void(const std::string&)>;

// "http://10.0.0.5:8200/metrics" -> "10.0.0.5:8200": a pod scraped by URL is named by the URL's
// authority (host:port), without credentials ("http://u:p@h:1/m" -> "h:1"). A URL without a scheme is
// taken from its start.
std::string pod_name_from_url(const std::string& url);

// {pod_name_from_url(url), url} for each URL, in order.
std::vector<scrape::PodUrl> pods_from_urls(const std::vector<std::string>& urls);

// Scrape parallelism and timeout from the scenario's cache section (max_parallel at least 1).
scrape::UrlSourceOptions url_source_options(const scenario::CacheSpec& cache);

// The bearer token of `cache.source: prometheus`: the value of the environment variable that
// cache.bearer_token_env (--prometheus-token-env) names, registered with util::add_secret; "" when
// none is named. Fails naming the variable (never the value) when it is unset or empty.
util::Result<std::string> prometheus_bearer_token(const scenario::PrometheusSpec& prometheus);

// Restarts the selected pods (delete, or roll out their Deployment) and waits until the
// replacements are Ready and answer /metrics, telling its progress to `say`. For `restart:` /
// --restart-pods; call before make_cache_source (pods are discovered when the source is made).
// `stop`, once set (Ctrl-C / SIGTERM), ends the wait: the error then says "interrupted".
util::Result<void> restart_kubernetes_pods(const scenario::CacheSpec& cache, const std::atomic<bool>* stop = nullptr,
                                           const SayLine& say = {});

// The source `cache` names: urls -> direct HTTP scrape, files -> saved dumps, automatic ->
// `embedded_pods` (the embedded simulator's pods) when there are any, kubernetes -> pod discovery
// with kubectl then API-server proxy or exec scrapes (errors name the namespace and selector),
// prometheus -> the query API (it tells `say` when a snapshot waits for Prometheus to scrape the
// pods; `abort`, when given and set, cuts that wait short). nullptr when there is no
// cache source (source none, or automatic without an embedded simulator). Fails when saved dumps
// cannot be opened (the error quotes the path).
util::Result<std::unique_ptr<scrape::MetricsSource>> make_cache_source(const scenario::CacheSpec& cache,
                                                                       const std::vector<scrape::PodUrl>& embedded_pods,
                                                                       const std::atomic<bool>* abort = nullptr,
                                                                       const SayLine& say = {});

}  // namespace llmd::run
