#pragma once
// Test support: Debian's real Prometheus and Pushgateway (package `prometheus`, installed by scripts/setup.sh) as a
// child process on 127.0.0.1, scraping the targets a test names every `interval`, with its TSDB in
// the test's scratch folder. Loopback only.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.hpp"

namespace llmd::test {

// One scrape target: "127.0.0.1:PORT" (its /metrics is scraped) and the `pod` label Prometheus
// attaches to every series of it (static_configs labels, as kube-prometheus attaches `pod`).
struct PrometheusTarget {
  std::string address;
  std::string pod;
};

class PrometheusProcess {
 public:
  // Writes DIR/prometheus.yml (job "llmd", one static target per entry, scrape_interval and
  // scrape_timeout = `interval`), starts Prometheus on a free port (another one when it was taken
  // meanwhile), and waits until it is ready and has scraped every target successfully once.
  // When it cannot, error() says why (the test should fail with it).
  PrometheusProcess(const std::filesystem::path& dir, const std::vector<PrometheusTarget>& targets,
                    std::chrono::milliseconds interval);
  ~PrometheusProcess();  // SIGTERM, SIGKILL after 10 s
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  const std::string& url() const { return m_url; }      // "http://127.0.0.1:PORT"
  const std::string& error() const { return m_error; }  // "" when it runs and has scraped every target
  // Its stderr so far (--log.level=warn: little).
  std::string log();

 private:
  std::string start(const std::filesystem::path& dir);
  std::string wait_until_scraped(std::size_t targets, std::chrono::seconds timeout);

  std::unique_ptr<ChildProcess> m_child;
  std::string m_url;
  std::string m_error;
};

// Debian's real Pushgateway (package `prometheus-pushgateway`, scripts/setup.sh) as a child
// process on 127.0.0.1 and a free port, keeping what is pushed in memory only.
class PushgatewayProcess {
 public:
  // Starts it (another port when the one picked was taken meanwhile) and waits until /-/ready
  // answers; when it cannot, error() says why.
  PushgatewayProcess();
  ~PushgatewayProcess();  // SIGTERM, SIGKILL after 10 s
  PushgatewayProcess(const PushgatewayProcess&) = delete;
  PushgatewayProcess& operator=(const PushgatewayProcess&) = delete;

  const std::string& url() const { return m_url; }      // "http://127.0.0.1:PORT"
  const std::string& error() const { return m_error; }  // "" when it runs
  std::string log();

 private:
  std::unique_ptr<ChildProcess> m_child;
  std::string m_url;
  std::string m_error;
};

// The prometheus executable: /usr/bin/prometheus, else on PATH; "" when there is none.
std::string find_prometheus();
// /usr/bin/NAME, else NAME on PATH; "" when there is none.
std::string find_executable(const std::string& name);

}  // namespace llmd::test
