#pragma once
// Pod metrics through kubectl, for pods found by pod_discovery.hpp (STYLE.md habit 1: both behind
// scrape::MetricsSource):
//   ProxySource  `kubectl get --raw /api/v1/namespaces/NS/pods/POD:PORT/proxy/metrics`: the API
//                server's pod proxy; nothing is needed inside the container.
//   ExecSource   `kubectl exec POD -c CONTAINER -- curl ... http://127.0.0.1:PORT/metrics`, and
//                wget when the container has no curl.
// Each pod tries the configured ports in order and remembers the first that answered. Pods run in
// parallel on worker threads (kubectl is one process per scrape), at most max_parallel at once.
// Pods that were not Ready at discovery are listed after the scraped ones with an error saying
// why: reported, never scraped. A source made by make_kubernetes_source() lists the pods again
// before every scrape after the first, so a pod that replaced another (a new name after a restart,
// a scale-up) is scraped after the run and reported as new, and one that went away as vanished.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kube/kubectl.hpp"
#include "kube/pod_discovery.hpp"
#include "scenario/scenario.hpp"
#include "scrape/metrics_source.hpp"
#include "util/result.hpp"

namespace llmd::kube {

// How kubectl is run for a source; the cluster, namespace and selector come from KubernetesSpec.
struct KubeOptions {
  std::string kubectl = "kubectl";                   // program: a path or a name on PATH
  std::chrono::milliseconds scrape_timeout{10000};   // one scrape of one pod on one port (kubectl is killed after it)
  std::chrono::milliseconds kubectl_timeout{30000};  // other kubectl calls (list, delete, rollout)
  std::size_t max_parallel = 8;                      // kubectl processes at once (>= 1)
};

// KubeOptions from the scenario's cache section (scrape_timeout, max_parallel_scrapes).
KubeOptions kube_options(const scenario::CacheSpec& cache);

// The kubectl target (kubeconfig, context, namespace) a spec addresses.
KubeTarget kube_target(const scenario::KubernetesSpec& spec, const KubeOptions& options);

class KubeSource : public scrape::MetricsSource {
 public:
  KubeSource(Kubectl kubectl, scenario::KubernetesSpec spec, PodList pods, std::size_t max_parallel);

  // From now on, list the pods with `lister` (spec.selector in its namespace) before each scrape
  // after the first. A failed listing keeps the previous list and adds a failed PodScrape named
  // "pod list (SELECTOR)" saying why: a pod may be missing, so the cache gates must not pass.
  void rediscover_with(Kubectl lister);

  // Running kubectl calls are killed once `abort` is set (and later ones fail at once).
  void set_abort_flag(const std::atomic<bool>* abort) override;

  std::vector<scrape::PodScrape> scrape_all() final;
  std::map<std::string, std::string> pod_addresses() const final;  // ready pods' status.podIP
  const PodList& pods() const { return m_pods; }
  // The port that last answered for ready pod `index`, 0 when none has yet.
  std::uint16_t working_port(std::size_t index) const;

  // POSTs `body` (JSON; may be empty) to `path` ("/reset_prefix_cache") of ready pod `index` through
  // the API server's pod proxy, whatever `via` scrapes with: `kubectl create --raw
  // /api/v1/namespaces/NS/pods/POD:PORT/proxy/PATH -f FILE` (the body in a temporary file; needs
  // `create` on pods/proxy), on the port that last answered the pod's scrape, else the first of
  // spec.ports. kubectl's output as it ran (check exit_code; a 404 is "Error from server (NotFound)").
  util::Result<KubectlOutput> post_via_proxy(std::size_t index, std::string_view path, const std::string& body) const;

 protected:
  // One attempt: the exposition, or why not. `source` is set to what was tried (for reports).
  virtual util::Result<std::string> fetch(std::size_t index, std::uint16_t port, std::string& source) = 0;
  std::string describe_pods() const;  // "3 pods (1 not Ready), ports 8200, 8001, 8000, up to 8 in parallel"

  // What the source learned about one ready pod (kept by pod name across listings). Workers write
  // only their own pod's entry.
  struct PodMemory {
    std::size_t first_port = 0;     // index into m_spec.ports to try first
    std::uint16_t working_port = 0;  // the port that last answered, 0 when none has yet
    bool use_wget = false;           // exec: curl is missing in this pod's container
  };

  Kubectl m_kubectl;
  scenario::KubernetesSpec m_spec;
  PodList m_pods;
  std::size_t m_max_parallel;
  std::vector<PodMemory> m_memory;  // per ready pod, in m_pods.ready order

 private:
  scrape::PodScrape scrape_pod(std::size_t index);
  void relist();
  std::optional<Kubectl> m_lister;
  bool m_scraped = false;
  std::string m_relist_error;
};

class ProxySource final : public KubeSource {
 public:
  using KubeSource::KubeSource;
  std::string describe() const override;

 private:
  util::Result<std::string> fetch(std::size_t index, std::uint16_t port, std::string& source) override;
};

class ExecSource final : public KubeSource {
 public:
  using KubeSource::KubeSource;
  std::string describe() const override;

 private:
  util::Result<std::string> fetch(std::size_t index, std::uint16_t port, std::string& source) override;
};

// A ProxySource or ExecSource (spec.via) over already discovered pods.
std::unique_ptr<KubeSource> make_source_for(const scenario::KubernetesSpec& spec, const KubeOptions& options,
                                            PodList pods);

// Discovers the pods (spec.selector in spec.namespace_name) and returns the source to scrape them.
// Errors (exit 3 for the CLI): kubectl failed, no pod matches (names namespace and selector), or
// none of the matching pods is Ready (names each and why).
util::Result<std::unique_ptr<scrape::MetricsSource>> make_kubernetes_source(const scenario::KubernetesSpec& spec,
                                                                            const KubeOptions& options);

}  // namespace llmd::kube
