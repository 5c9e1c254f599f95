#pragma once
// Where pod metrics come from. One interface, one file per implementation (STYLE.md habit 1):
//   url_source.hpp   direct HTTP scrape of {pod, URL} pairs (libcurl multi, all pods in parallel)
//   file_source.hpp  saved dumps (<pod>.txt / <pod>.prom)
//   prometheus_source.hpp  a Prometheus server's query and metadata API
// Kubernetes sources (kubectl exec, API-server pod proxy; lib/kube) implement the same interface.
#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "scrape/snapshot.hpp"

namespace llmd::scrape {

class MetricsSource {
 public:
  virtual ~MetricsSource();

  // One line for logs and reports, e.g. "direct HTTP scrape of 3 pods (max 16 in parallel, 5 s timeout)".
  virtual std::string describe() const = 0;

  // Fetches every pod's exposition, in parallel where the source allows. Exactly one entry per pod,
  // in the source's pod order; a pod that could not be fetched carries an error naming the pod,
  // the source (URL or file) and what to try. Never throws for expected failures.
  virtual std::vector<PodScrape> scrape_all() = 0;

  // What a report should say about the numbers this source gave so far: where they came from and
  // when they cannot be trusted (e.g. Prometheus: the scrape each snapshot was read from, HELP texts
  // it could not give). One sentence each; none by default.
  virtual std::vector<std::string> notes() const;

  // Where each pod serves, to tell which pod a gateway's "served by" header (ip:port) names
  // (engine/attribution.hpp): pod name -> "host:port" (direct scrape: the metrics URL's, which
  // vLLM serves on its API port) or "ip" (Kubernetes: status.podIP). Empty by default (saved
  // dumps, Prometheus): endpoints are then reported as the gateway named them.
  virtual std::map<std::string, std::string> pod_addresses() const { return {}; }

  // Once `abort` is set (the run's second Ctrl-C), scrape_all() returns as soon as it can: pods not
  // read yet fail with "scrape aborted (Ctrl-C)". nullptr (default): each scrape runs to its own
  // timeout. Sources that wait on other processes or servers pass the flag on.
  virtual void set_abort_flag(const std::atomic<bool>* abort) { m_abort = abort; }

 protected:
  bool aborted() const { return m_abort != nullptr && m_abort->load(); }

  const std::atomic<bool>* m_abort = nullptr;
};

}  // namespace llmd::scrape
