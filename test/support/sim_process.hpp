#pragma once
// Test support: `llmd-bench sim ARGS...` as a child process on 127.0.0.1 ephemeral ports, with the
// URLs from its start-up JSON line, and helpers to read a pod's prefix-cache counters.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"

namespace llmd::test {

struct PodCounters {
  double queries_tokens = 0;
  double hits_tokens = 0;
  double requests = 0;  // sum of vllm:request_success_total over finished_reason
};

class SimProcess {
 public:
  // Starts the simulator with `args` (after "sim"); fails the current test when it does not start.
  explicit SimProcess(std::vector<std::string> args);
  ~SimProcess();

  const nlohmann::json& info() const { return m_info; }
  std::string gateway() const { return m_info["gateway"].get<std::string>(); }
  std::string pod_url(std::size_t i) const { return m_info["pods"][i]["url"].get<std::string>(); }
  std::size_t pods() const { return m_info["pods"].size(); }
  ChildProcess& process() { return *m_child; }

  // Scrapes pod i's /metrics and parses vllm:prefix_cache_*_total and request_success_total.
  PodCounters counters(std::size_t i) const;
  std::string metrics_text(std::size_t i) const;

 private:
  std::unique_ptr<ChildProcess> m_child;
  nlohmann::json m_info;
};

// "p0 p1 ... p{n-1}": exactly n tokens for the simulator's tokenizer.
std::string words(std::size_t n, const std::string& stem = "p");

}  // namespace llmd::test
