#include "kube/kube_sources.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "scrape/url_source.hpp"
#include "util/output_path.hpp"

namespace llmd::kube {

namespace {

using scenario::KubernetesSpec;

std::string seconds_text(std::chrono::milliseconds duration) {
  return fmt::format("{:g}", static_cast<double>(duration.count()) / 1000.0);
}

std::string ports_text(const std::vector<std::uint16_t>& ports) { return fmt::format("{}", fmt::join(ports, ", ")); }

// The container has no such program: exit 126/127 (kubectl passes the remote code on) or the
// runtime's "executable file not found". Not any "not found": a missing pod is another error.
bool program_missing(const KubectlOutput& output, std::string_view program) {
  return output.exit_code == 126 || output.exit_code == 127 ||
         output.err.find("executable file not found") != std::string::npos ||
         output.err.find(fmt::format("{}: not found", program)) != std::string::npos;
}

std::string metrics_url(std::uint16_t port) { return fmt::format("http://127.0.0.1:{}/metrics", port); }

}  // namespace

KubeOptions kube_options(const scenario::CacheSpec& cache) {
  KubeOptions options;
  options.scrape_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cache.scrape_timeout);
  options.max_parallel = std::max<std::size_t>(1, cache.max_parallel_scrapes);
  return options;
}

KubeTarget kube_target(const KubernetesSpec& spec, const KubeOptions& options) {
  return KubeTarget{options.kubectl, spec.kubeconfig, spec.context, spec.namespace_name};
}

KubeSource::KubeSource(Kubectl kubectl, KubernetesSpec spec, PodList pods, std::size_t max_parallel)
    : m_kubectl(std::move(kubectl)),
      m_spec(std::move(spec)),
      m_pods(std::move(pods)),
      m_max_parallel(std::max<std::size_t>(1, max_parallel)),
      m_memory(m_pods.ready.size()) {}

std::uint16_t KubeSource::working_port(std::size_t index) const { return m_memory.at(index).working_port; }

util::Result<KubectlOutput> KubeSource::post_via_proxy(std::size_t index, std::string_view path,
                                                       const std::string& body) const {
  const PodInfo& pod = m_pods.ready.at(index);
  const std::uint16_t port = working_port(index) != 0 ? working_port(index) : m_spec.ports.at(0);
  auto file = util::create_temporary(std::filesystem::temp_directory_path() / "llmd-bench-post.json");
  if (!file) {
    return util::fail(file.error());
  }
  const bool written = ::write(file->fd, body.data(), body.size()) == static_cast<ssize_t>(body.size());
  ::close(file->fd);
  util::Result<KubectlOutput> output = util::fail(fmt::format("could not write the request body to {}", file->path.string()));
  if (written) {
    const std::string raw = fmt::format("/api/v1/namespaces/{}/pods/{}:{}/proxy{}", pod.namespace_name, pod.name, port, path);
    output = m_kubectl.run_capture({"create", "--raw", raw, "-f", file->path.string()});
  }
  std::error_code ignored;
  std::filesystem::remove(file->path, ignored);
  return output;
}

void KubeSource::rediscover_with(Kubectl lister) {
  lister.set_cancel_flag(m_abort);
  m_lister = std::move(lister);
}

void KubeSource::set_abort_flag(const std::atomic<bool>* abort) {
  scrape::MetricsSource::set_abort_flag(abort);
  m_kubectl.set_cancel_flag(abort);
  if (m_lister) {
    m_lister->set_cancel_flag(abort);
  }
}

void KubeSource::relist() {
  auto pods = discover_pods(*m_lister, m_spec.selector, m_spec.container);
  if (!pods) {
    m_relist_error = pods.error();
    return;
  }
  m_relist_error.clear();
  std::vector<PodMemory> memory(pods->ready.size());
  for (std::size_t i = 0; i < pods->ready.size(); ++i) {
    for (std::size_t old = 0; old < m_pods.ready.size(); ++old) {
      if (m_pods.ready[old].name == pods->ready[i].name && m_pods.ready[old].uid == pods->ready[i].uid) {
        memory[i] = m_memory[old];
      }
    }
  }
  m_pods = std::move(*pods);
  m_memory = std::move(memory);
}

std::string KubeSource::describe_pods() const {
  const std::size_t total = m_pods.ready.size() + m_pods.not_ready.size();
  return fmt::format("{} pods{} matching \"{}\" in {}, ports {}, up to {} in parallel, timeout {} s per scrape", total,
                     m_pods.not_ready.empty() ? "" : fmt::format(" ({} not Ready)", m_pods.not_ready.size()),
                     m_spec.selector, describe_namespace(m_kubectl.target()), ports_text(m_spec.ports), m_max_parallel,
                     seconds_text(m_kubectl.timeout()));
}

scrape::PodScrape KubeSource::scrape_pod(std::size_t index) {
  const PodInfo& pod = m_pods.ready[index];
  scrape::PodScrape result;
  result.pod = pod.name;
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::string> failures;
  const std::size_t count = m_spec.ports.size();
  for (std::size_t attempt = 0; attempt < count; ++attempt) {
    const std::size_t port_index = (m_memory[index].first_port + attempt) % count;
    const std::uint16_t port = m_spec.ports[port_index];
    auto text = fetch(index, port, result.source);
    if (text) {
      m_memory[index].first_port = port_index;
      m_memory[index].working_port = port;
      result.text = std::move(*text);
      break;
    }
    failures.push_back(fmt::format("port {}: {}", port, text.error()));
  }
  if (failures.size() == count) {
    result.text = util::fail(fmt::format("pod {} ({}): no metrics on port{} {}: {}; {}; set cache.ports", pod.name,
                                         result.source, count == 1 ? "" : "s", ports_text(m_spec.ports),
                                         fmt::join(failures, "; "), scrape::k_metrics_port_hint));
  }
  result.duration = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
  result.scraped_at = std::chrono::system_clock::now();
  return result;
}

std::map<std::string, std::string> KubeSource::pod_addresses() const {
  std::map<std::string, std::string> out;
  for (const PodInfo& pod : m_pods.ready) {
    if (!pod.pod_ip.empty()) {
      out[pod.name] = pod.pod_ip;
    }
  }
  return out;
}

std::vector<scrape::PodScrape> KubeSource::scrape_all() {
  if (m_lister && m_scraped) {
    relist();
  }
  m_scraped = true;
  std::vector<scrape::PodScrape> results(m_pods.ready.size());
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i = next++; i < results.size(); i = next++) {
      results[i] = scrape_pod(i);
    }
  };
  std::vector<std::thread> workers;
  const std::size_t thread_count = std::min(m_max_parallel, results.size());
  for (std::size_t t = 1; t < thread_count; ++t) {
    workers.emplace_back(work);
  }
  work();
  for (std::thread& worker : workers) {
    worker.join();
  }
  if (!m_relist_error.empty()) {
    scrape::PodScrape listing;
    listing.pod = fmt::format("pod list ({})", m_spec.selector);
    listing.source = fmt::format("kubectl get pods -l {} ({})", m_spec.selector, describe_namespace(m_kubectl.target()));
    listing.text = util::fail(fmt::format("listing the pods again failed: {}; the pods found before were scraped, a "
                                          "pod that replaced one of them or was added may be missing",
                                          m_relist_error));
    listing.scraped_at = std::chrono::system_clock::now();
    results.push_back(std::move(listing));
  }
  for (const PodInfo& pod : m_pods.not_ready) {
    scrape::PodScrape skipped;
    skipped.pod = pod.name;
    skipped.source = fmt::format("kubectl get pods (namespace {})", pod.namespace_name);
    skipped.text = util::fail(fmt::format("pod {} is not Ready ({}): not scraped; see `kubectl describe pod {} -n {}`",
                                          pod.name, pod.not_ready_reason, pod.name, pod.namespace_name));
    skipped.scraped_at = std::chrono::system_clock::now();
    results.push_back(std::move(skipped));
  }
  return results;
}

std::string ProxySource::describe() const { return "kubectl API-server pod proxy scrape of " + describe_pods(); }

util::Result<std::string> ProxySource::fetch(std::size_t index, std::uint16_t port, std::string& source) {
  const PodInfo& pod = m_pods.ready[index];
  const std::string path =
      fmt::format("/api/v1/namespaces/{}/pods/{}:{}/proxy/metrics", pod.namespace_name, pod.name, port);
  source = "kubectl get --raw " + path;
  auto text = m_kubectl.run({"get", "--raw", path});
  if (text && text->empty()) {
    return util::fail("empty answer");
  }
  return text;
}

std::string ExecSource::describe() const {
  return fmt::format("kubectl exec (curl, else wget, in container \"{}\") scrape of {}", m_spec.container,
                     describe_pods());
}

util::Result<std::string> ExecSource::fetch(std::size_t index, std::uint16_t port, std::string& source) {
  const PodInfo& pod = m_pods.ready[index];
  const std::string seconds = seconds_text(m_kubectl.timeout());
  const std::vector<std::string> curl = {"curl", "-sS", "--fail", "--max-time", seconds, metrics_url(port)};
  const std::vector<std::string> wget = {"wget", "-q", "-O", "-", "-T", seconds, metrics_url(port)};
  for (int round = 0; round < 2; ++round) {
    std::vector<std::string> args = {"exec", pod.name, "-c", m_spec.container, "--"};
    const std::vector<std::string>& tool = m_memory[index].use_wget ? wget : curl;
    args.insert(args.end(), tool.begin(), tool.end());
    source = display_command(m_kubectl.argv(args));
    auto output = m_kubectl.run_capture(args);
    if (!output) {
      return util::fail(output.error());
    }
    if (output->exit_code == 0) {
      return output->out.empty() ? util::Result<std::string>(util::fail("empty answer")) : std::move(output->out);
    }
    if (!program_missing(*output, tool.front())) {
      return util::fail(describe_failure(*output));
    }
    if (m_memory[index].use_wget) {
      return util::fail(fmt::format("neither curl nor wget runs in container \"{}\": {}; use `via: proxy`",
                                    m_spec.container, describe_failure(*output)));
    }
    m_memory[index].use_wget = true;  // no curl in this container: wget from now on
  }
  return util::fail("unreachable");
}

std::unique_ptr<KubeSource> make_source_for(const KubernetesSpec& spec, const KubeOptions& options, PodList pods) {
  Kubectl kubectl(kube_target(spec, options), options.scrape_timeout);
  if (spec.via == KubernetesSpec::Via::exec) {
    return std::make_unique<ExecSource>(std::move(kubectl), spec, std::move(pods), options.max_parallel);
  }
  return std::make_unique<ProxySource>(std::move(kubectl), spec, std::move(pods), options.max_parallel);
}

util::Result<std::unique_ptr<scrape::MetricsSource>> make_kubernetes_source(const KubernetesSpec& spec,
                                                                            const KubeOptions& options) {
  const Kubectl kubectl(kube_target(spec, options), options.kubectl_timeout);
  auto pods = discover_pods(kubectl, spec.selector, spec.container);
  if (!pods) {
    return util::fail(pods.error());
  }
  if (pods->ready.empty()) {
    std::vector<std::string> reasons;
    for (const PodInfo& pod : pods->not_ready) {
      reasons.push_back(fmt::format("{}: {}", pod.name, pod.not_ready_reason));
    }
    return util::fail(fmt::format("none of the {} pods matching selector \"{}\" in {} is Ready ({}): nothing to scrape",
                                  pods->not_ready.size(), spec.selector, describe_namespace(kubectl.target()),
                                  fmt::join(reasons, "; ")));
  }
  auto source = make_source_for(spec, options, std::move(*pods));
  source->rediscover_with(kubectl);
  return std::unique_ptr<scrape::MetricsSource>(std::move(source));
}

}  // namespace llmd::kube
