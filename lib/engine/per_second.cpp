#include "engine/per_second.hpp"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "engine/run_result.hpp"

namespace llmd::engine {

namespace {

std::uint32_t narrow_count(std::size_t value) {
  return static_cast<std::uint32_t>(std::min<std::size_t>(value, UINT32_MAX));
}

void bump(std::uint32_t& counter) {
  if (counter != UINT32_MAX) {
    ++counter;
  }
}

std::optional<double> percentile(const stats::LogLinearHistogram& histogram, double p) {
  return histogram.count() == 0 ? std::nullopt : histogram.percentile(p);
}

}  // namespace

SecondRecorder::SecondRecorder() : m_ttft(make_engine_histogram()), m_itl(make_engine_histogram()) {}

SecondBucket& SecondRecorder::at(std::chrono::nanoseconds since_run_start, std::size_t in_flight_before) {
  const auto whole = std::chrono::duration_cast<std::chrono::seconds>(std::max(since_run_start, std::chrono::nanoseconds{}));
  const std::size_t index = std::min(static_cast<std::size_t>(whole.count()), k_max_seconds - 1);
  if (m_seconds.empty() || index + 1 > m_seconds.size()) {
    if (!m_seconds.empty()) {
      close_open();
    }
    // Seconds without an event held what was in flight before it.
    while (m_seconds.size() <= index) {
      SecondBucket empty;
      empty.peak_in_flight = narrow_count(in_flight_before);
      m_seconds.push_back(empty);
    }
  }
  return m_seconds.back();  // events arrive in time order: index is the last second (or capped there)
}

void SecondRecorder::close_open() {
  SecondBucket& open = m_seconds.back();
  open.ttft_p50_ns = percentile(m_ttft, 50);
  open.ttft_p95_ns = percentile(m_ttft, 95);
  open.itl_p50_ns = percentile(m_itl, 50);
  open.itl_p95_ns = percentile(m_itl, 95);
  m_ttft.reset();
  m_itl.reset();
}

void SecondRecorder::on_start(std::chrono::nanoseconds since_run_start, std::size_t in_flight) {
  SecondBucket& second = at(since_run_start, m_in_flight);
  bump(second.started);
  second.peak_in_flight = std::max(second.peak_in_flight, narrow_count(in_flight));
  m_in_flight = in_flight;
}

void SecondRecorder::on_end(std::chrono::nanoseconds since_run_start, std::size_t in_flight, bool ok,
                            std::uint64_t output_tokens, std::optional<std::uint64_t> ttft_ns,
                            std::span<const std::uint64_t> gaps_ns) {
  SecondBucket& second = at(since_run_start, m_in_flight);
  second.peak_in_flight = std::max(second.peak_in_flight, narrow_count(m_in_flight));  // it was in flight until now
  m_in_flight = in_flight;
  if (!ok) {
    bump(second.failed);
    return;
  }
  bump(second.ok);
  second.output_tokens += output_tokens;
  if (ttft_ns) {
    m_ttft.record(*ttft_ns);
  }
  for (const std::uint64_t gap : gaps_ns) {
    m_itl.record(gap);
  }
}

std::vector<SecondBucket> SecondRecorder::finish() {
  if (!m_seconds.empty()) {
    close_open();
  }
  return std::move(m_seconds);
}

nlohmann::json to_json(std::span<const SecondBucket> seconds) {
  using nlohmann::json;
  json started = json::array(), ok = json::array(), failed = json::array(), tokens = json::array(),
       peak = json::array(), ttft50 = json::array(), ttft95 = json::array(), itl50 = json::array(),
       itl95 = json::array();
  const auto value = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  for (const auto& second : seconds) {
    started.push_back(second.started);
    ok.push_back(second.ok);
    failed.push_back(second.failed);
    tokens.push_back(second.output_tokens);
    peak.push_back(second.peak_in_flight);
    ttft50.push_back(value(second.ttft_p50_ns));
    ttft95.push_back(value(second.ttft_p95_ns));
    itl50.push_back(value(second.itl_p50_ns));
    itl95.push_back(value(second.itl_p95_ns));
  }
  return {{"bucket_seconds", 1},     {"started", std::move(started)},         {"ok", std::move(ok)},
          {"failed", std::move(failed)},        {"output_tokens", std::move(tokens)},    {"peak_in_flight", std::move(peak)},
          {"ttft_p50_ns", std::move(ttft50)},   {"ttft_p95_ns", std::move(ttft95)},      {"itl_p50_ns", std::move(itl50)},
          {"itl_p95_ns", std::move(itl95)}};
}

}  // namespace llmd::engine
