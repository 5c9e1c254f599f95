#include "support/prometheus_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/http_client.hpp"
#include "support/url_codec.hpp"

namespace llmd::test {

namespace {

namespace fs = std::filesystem;

// A loopback port that was free a moment ago (bound to port 0, then closed).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  int port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
    port = ntohs(addr.sin_port);
  }
  if (fd >= 0) {
    ::close(fd);
  }
  return port;
}

std::string duration_text(std::chrono::milliseconds interval) { return std::to_string(interval.count()) + "ms"; }

std::string config(const std::vector<PrometheusTarget>& targets, std::chrono::milliseconds interval) {
  std::ostringstream out;
  out << "global:\n  scrape_interval: " << duration_text(interval) << "\n  scrape_timeout: " << duration_text(interval)
      << "\nscrape_configs:\n  - job_name: llmd\n    metrics_path: /metrics\n    static_configs:\n";
  for (const PrometheusTarget& target : targets) {
    out << "      - targets: ['" << target.address << "']\n        labels: {pod: '" << target.pod << "'}\n";
  }
  return out.str();
}

// The single value of an instant query's vector result, or -1.
double query_value(const std::string& url, const std::string& promql) {
  const HttpResult answer = http_get(url + "/api/v1/query?query=" + url_encode(promql));
  const auto body = nlohmann::json::parse(answer.body, nullptr, false);
  if (answer.status != 200 || body.is_discarded() || !body.contains("data") ||
      body["data"]["result"].empty()) {
    return -1;
  }
  return std::stod(body["data"]["result"][0]["value"][1].get<std::string>());
}

}  // namespace

std::string find_executable(const std::string& name) {
  if (::access(("/usr/bin/" + name).c_str(), X_OK) == 0) {
    return "/usr/bin/" + name;
  }
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) {
      return dir + "/" + name;
    }
  }
  return {};
}

std::string find_prometheus() { return find_executable("prometheus"); }

namespace {

// Starts `argv_for(port)` on a free port until GET URL/-/ready answers 200 (5 attempts, 30 s each);
// "" when it did, else the last log.
std::string start_until_ready(std::unique_ptr<ChildProcess>& child, std::string& url,
                              const std::function<std::vector<std::string>(int)>& argv_for) {
  std::string last_log;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int port = free_port();
    url = "http://127.0.0.1:" + std::to_string(port);
    child = std::make_unique<ChildProcess>(argv_for(port));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (child->wait(std::chrono::milliseconds(0))) {
        break;  // exited: the port was taken meanwhile, or a bad config
      }
      if (http_request("GET", url + "/-/ready", "", {}, 1000).status == 200) {
        return {};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    child->wait(std::chrono::milliseconds(0));
    last_log = child->stderr_text();
    child.reset();  // SIGKILLs it if it still runs
  }
  return "did not become ready on 127.0.0.1 (5 attempts); its log: " + last_log;
}

void stop(std::unique_ptr<ChildProcess>& child) {
  if (child) {
    child->send_signal(SIGTERM);
    if (!child->wait(std::chrono::seconds(10))) {
      child->send_signal(SIGKILL);
      child->wait(std::chrono::seconds(5));
    }
  }
}

}  // namespace

PushgatewayProcess::PushgatewayProcess() {
  const std::string binary = find_executable("prometheus-pushgateway");
  if (binary.empty()) {
    m_error = "Debian's prometheus-pushgateway is not installed (no /usr/bin/prometheus-pushgateway): run scripts/setup.sh";
    return;
  }
  m_error = start_until_ready(m_child, m_url, [&](int port) {
    return std::vector<std::string>{binary, "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"};
  });
  if (!m_error.empty()) {
    m_error = "prometheus-pushgateway " + m_error;
  }
}

PushgatewayProcess::~PushgatewayProcess() { stop(m_child); }

std::string PushgatewayProcess::log() {
  if (m_child) {
    m_child->wait(std::chrono::milliseconds(0));
    return m_child->stderr_text();
  }
  return {};
}

PrometheusProcess::PrometheusProcess(const fs::path& dir, const std::vector<PrometheusTarget>& targets,
                                     std::chrono::milliseconds interval) {
  fs::create_directories(dir);
  std::ofstream(dir / "prometheus.yml") << config(targets, interval);
  m_error = start(dir);
  if (m_error.empty()) {
    m_error = wait_until_scraped(targets.size(), std::chrono::seconds(30));
  }
}

PrometheusProcess::~PrometheusProcess() { stop(m_child); }

std::string PrometheusProcess::log() {
  if (m_child) {
    m_child->wait(std::chrono::milliseconds(0));  // drains its pipes
    return m_child->stderr_text();
  }
  return {};
}

std::string PrometheusProcess::start(const fs::path& dir) {
  const std::string binary = find_prometheus();
  if (binary.empty()) {
    return "Debian's prometheus is not installed (no /usr/bin/prometheus, none on PATH): run scripts/setup.sh";
  }
  const std::string error = start_until_ready(m_child, m_url, [&](int port) {
    fs::remove_all(dir / "data");
    return std::vector<std::string>{binary, "--config.file=" + (dir / "prometheus.yml").string(),
                                    "--storage.tsdb.path=" + (dir / "data").string(),
                                    "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"};
  });
  return error.empty() ? error : "prometheus " + error;
}

std::string PrometheusProcess::wait_until_scraped(std::size_t targets, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (query_value(m_url, "count(up{job=\"llmd\"} == 1)") == static_cast<double>(targets)) {
      return {};
    }
    m_child->wait(std::chrono::milliseconds(0));  // keeps its stderr pipe drained
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return "prometheus did not scrape all " + std::to_string(targets) + " targets within " +
         std::to_string(timeout.count()) + " s; its log: " + log();
}

}  // namespace llmd::test
