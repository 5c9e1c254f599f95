#include "scrape/url_source.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <utility>

#include <curl/curl.h>
#include <fmt/format.h>

#include "prom/text_parser.hpp"
#include "scrape/http_get.hpp"
#include "util/curl_global.hpp"

namespace llmd::scrape {

namespace {

constexpr long k_max_redirects = 5;
constexpr int k_poll_timeout_ms = 100;
constexpr char k_accept_header[] = "Accept: text/plain;version=0.0.4";

struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
using MultiHandle = std::unique_ptr<CURLM, MultiDeleter>;

std::string seconds_text(std::chrono::milliseconds duration) {
  return fmt::format("{:g} s", static_cast<double>(duration.count()) / 1000.0);
}

// One pod's transfer. Lives at a stable address while curl holds a pointer to it.
struct Transfer {
  Transfer(std::size_t pod_index, std::size_t max_body_bytes) : index(pod_index), http(max_body_bytes) {}

  std::size_t index = 0;  // into the pod list
  HttpGet http;
};

// The transfer of one pod, its handle not yet added to the multi handle; http.easy is empty when libcurl
// could not create it.
std::unique_ptr<Transfer> start_transfer(std::size_t index, const PodUrl& pod, const UrlSourceOptions& options) {
  auto transfer = std::make_unique<Transfer>(index, options.max_body_bytes);
  if (!transfer->http.configure(pod.url, {k_accept_header}, options.timeout)) {
    return transfer;
  }
  CURL* easy = transfer->http.easy.get();
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, k_max_redirects);
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_PROXY, "");  // ignore http_proxy & co: pod IPs are cluster-internal
  curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
  return transfer;
}

// The cause and advice for a transfer that failed below HTTP.
std::string describe_curl_error(CURLcode code, const HttpGet& http, const UrlSourceOptions& options) {
  const std::string detail = http.describe_error(code);
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      return fmt::format("cannot connect ({}): is the pod running? {}", detail, k_metrics_port_hint);
    case CURLE_OPERATION_TIMEDOUT:
      return fmt::format("no complete answer within {} (timeout): the pod may be overloaded or unreachable; "
                         "raise the scrape timeout or check the network path to the pod",
                         seconds_text(options.timeout));
    case CURLE_COULDNT_RESOLVE_HOST: return fmt::format("cannot resolve the host ({}): check the URL", detail);
    case CURLE_UNSUPPORTED_PROTOCOL:
      return fmt::format("unsupported URL scheme ({}): use http:// or https://", detail);
    case CURLE_TOO_MANY_REDIRECTS:
      return fmt::format("more than {} redirects: check the URL", k_max_redirects);
    case CURLE_WRITE_ERROR:
      if (http.body_too_large) {
        return fmt::format("answer larger than {} bytes: {}", options.max_body_bytes, k_metrics_port_hint);
      }
      return fmt::format("curl error: {}", detail);
    default: return fmt::format("curl error: {}", detail);
  }
}

std::string http_status_advice(long status) {
  if (status == 401 || status == 403) {
    return "the endpoint wants credentials: scrape the pod's own port, not an authenticating gateway";
  }
  if (status >= 500) {
    return "the server failed: is vLLM still starting, or overloaded?";
  }
  return std::string(k_metrics_port_hint);
}

bool looks_like_html(std::string_view content_type, std::string_view body) {
  if (content_type.find("html") != std::string_view::npos) {
    return true;
  }
  const auto first = std::find_if(body.begin(), body.end(), [](unsigned char c) { return !std::isspace(c); });
  return first != body.end() && *first == '<';
}

// The body, or the cause and advice when the HTTP answer is not a usable exposition.
// http.finish() has run.
util::Result<std::string> check_answer(HttpGet& http, const std::string& url) {
  const char* effective = nullptr;
  curl_easy_getinfo(http.easy.get(), CURLINFO_EFFECTIVE_URL, &effective);
  const std::string redirected =
      effective != nullptr && url != effective ? fmt::format(" (redirected to {})", effective) : std::string();
  if (http.status != 200) {
    return util::fail(fmt::format("HTTP {}{}: {}", http.status, redirected, http_status_advice(http.status)));
  }
  const std::string_view type = http.content_type;
  if (looks_like_html(type, http.body)) {
    return util::fail(fmt::format("answered with HTML{} (Content-Type \"{}\"), not Prometheus text: {}", redirected,
                                  type, k_metrics_port_hint));
  }
  if (auto parsed = prom::parse_text(http.body); !parsed) {
    return util::fail(fmt::format("not Prometheus text{} (Content-Type \"{}\"): line {}: {}: {}", redirected, type,
                                  parsed.error().line, parsed.error().message, k_metrics_port_hint));
  }
  return std::move(http.body);
}

PodScrape finish_transfer(HttpGet& http, CURLcode code, const PodUrl& pod, const UrlSourceOptions& options) {
  PodScrape scrape{pod.pod, pod.url, util::fail(""), {}, std::chrono::system_clock::now()};
  http.finish();
  scrape.duration = http.duration;
  util::Result<std::string> text =
      code == CURLE_OK ? check_answer(http, pod.url) : util::fail(describe_curl_error(code, http, options));
  if (text) {
    scrape.text = std::move(text);
  } else {
    scrape.text = util::fail(fmt::format("pod {} ({}): {}", pod.pod, pod.url, text.error()));
  }
  return scrape;
}

}  // namespace

UrlSource::UrlSource(std::vector<PodUrl> pods, UrlSourceOptions options)
    : m_pods(std::move(pods)), m_options(options) {
  m_options.max_parallel = std::max<std::size_t>(m_options.max_parallel, 1);
  util::init_curl_once();
}

std::string UrlSource::describe() const {
  return fmt::format("direct HTTP scrape of {} pod{} (up to {} in parallel, timeout {} per scrape)", m_pods.size(),
                     m_pods.size() == 1 ? "" : "s", m_options.max_parallel, seconds_text(m_options.timeout));
}

// host:port of each pod's metrics URL, by libcurl's URL parser (CURLU): the default port of the
// scheme when the URL has none; pods whose URL does not parse are left out.
std::map<std::string, std::string> UrlSource::pod_addresses() const {
  std::map<std::string, std::string> out;
  for (const auto& pod : m_pods) {
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> url(curl_url(), &curl_url_cleanup);
    if (!url || curl_url_set(url.get(), CURLUPART_URL, pod.url.c_str(), 0) != CURLUE_OK) {
      continue;
    }
    char* host = nullptr;
    char* port = nullptr;
    if (curl_url_get(url.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(url.get(), CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
      out[pod.pod] = fmt::format("{}:{}", host, port);
    }
    curl_free(host);
    curl_free(port);
  }
  return out;
}

std::vector<PodScrape> UrlSource::scrape_all() {
  std::vector<PodScrape> scrapes(m_pods.size());
  MultiHandle multi(curl_multi_init());
  std::vector<std::unique_ptr<Transfer>> active;
  auto fail = [&](std::size_t index, std::string_view cause) {
    scrapes[index] = PodScrape{m_pods[index].pod, m_pods[index].url,
                               util::fail(fmt::format("pod {} ({}): {}", m_pods[index].pod, m_pods[index].url, cause)),
                               {}, std::chrono::system_clock::now()};
  };
  std::size_t next = 0;
  while (next < m_pods.size() || !active.empty()) {
    if (aborted()) {
      for (const auto& transfer : active) {
        curl_multi_remove_handle(multi.get(), transfer->http.easy.get());
        fail(transfer->index, "scrape aborted (Ctrl-C)");
      }
      active.clear();
      for (; next < m_pods.size(); ++next) {
        fail(next, "scrape aborted (Ctrl-C)");
      }
      break;
    }
    for (; active.size() < m_options.max_parallel && next < m_pods.size(); ++next) {
      auto transfer = start_transfer(next, m_pods[next], m_options);
      if (!transfer->http.easy || curl_multi_add_handle(multi.get(), transfer->http.easy.get()) != CURLM_OK) {
        fail(next, "libcurl could not start the transfer (out of memory?)");
        continue;
      }
      active.push_back(std::move(transfer));
    }
    int running = 0;
    if (const CURLMcode code = curl_multi_perform(multi.get(), &running); code != CURLM_OK) {
      for (const auto& transfer : active) {
        curl_multi_remove_handle(multi.get(), transfer->http.easy.get());
        fail(transfer->index, fmt::format("libcurl failed: {}", curl_multi_strerror(code)));
      }
      active.clear();
      continue;
    }
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi.get(), &queued)) {
      if (message->msg != CURLMSG_DONE) {
        continue;
      }
      Transfer* done = nullptr;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &done);
      const CURLcode code = message->data.result;  // read before removing the handle
      curl_multi_remove_handle(multi.get(), done->http.easy.get());
      scrapes[done->index] = finish_transfer(done->http, code, m_pods[done->index], m_options);
      std::erase_if(active, [done](const std::unique_ptr<Transfer>& t) { return t.get() == done; });
    }
    if (!active.empty()) {
      curl_multi_poll(multi.get(), nullptr, 0, k_poll_timeout_ms, nullptr);
    }
  }
  return scrapes;
}

}  // namespace llmd::scrape
