#include "support/sim_process.hpp"

#include <signal.h>

#include <gtest/gtest.h>

#include "prom/text_parser.hpp"
#include "support/http_client.hpp"

namespace llmd::test {

SimProcess::SimProcess(std::vector<std::string> args) {
  std::vector<std::string> argv = {LLMD_BENCH_BINARY, "sim", "--bind", "127.0.0.1"};
  argv.insert(argv.end(), args.begin(), args.end());
  m_child = std::make_unique<ChildProcess>(argv);
  auto line = m_child->read_stdout_line(std::chrono::seconds(10));
  if (!line) {
    m_child->wait(std::chrono::seconds(2));
    ADD_FAILURE() << "llmd-bench sim did not print its JSON line; stderr: " << m_child->stderr_text();
    m_info = nlohmann::json::object({{"gateway", ""}, {"pods", nlohmann::json::array()}});
    return;
  }
  m_info = nlohmann::json::parse(*line);
}

SimProcess::~SimProcess() {
  m_child->send_signal(SIGTERM);
  m_child->wait(std::chrono::seconds(5));
}

std::string SimProcess::metrics_text(std::size_t i) const { return http_get(pod_url(i) + "/metrics").body; }

PodCounters SimProcess::counters(std::size_t i) const {
  PodCounters counters;
  auto parsed = prom::parse_text(metrics_text(i));
  if (!parsed) {
    ADD_FAILURE() << "pod " << i << " /metrics does not parse: " << parsed.error().message;
    return counters;
  }
  auto sum = [&](const char* name) {
    double total = 0;
    for (const auto* sample : parsed->samples(name)) {
      total += sample->value;
    }
    return total;
  };
  // v0.11 names first; the v0.10 flavor exports both names with equal values (never add them).
  counters.queries_tokens = parsed->samples("vllm:prefix_cache_queries_total").empty()
                                ? sum("vllm:gpu_prefix_cache_queries_total")
                                : sum("vllm:prefix_cache_queries_total");
  counters.hits_tokens = parsed->samples("vllm:prefix_cache_hits_total").empty() ? sum("vllm:gpu_prefix_cache_hits_total")
                                                                                 : sum("vllm:prefix_cache_hits_total");
  counters.requests = sum("vllm:request_success_total");
  return counters;
}

std::string words(std::size_t n, const std::string& stem) {
  std::string text;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) {
      text += ' ';
    }
    text += stem + std::to_string(i);
  }
  return text;
}

}  // namespace llmd::test
