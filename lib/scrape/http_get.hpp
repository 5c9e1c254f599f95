#pragma once
// One libcurl GET as the scrape sources make it (internal to lib/scrape): the easy handle with the
// options both UrlSource (many at once on a multi handle) and PrometheusSource (curl_easy_perform)
// set, the answer body (capped), and what to read and report once the transfer is done. Each source
// adds its own options (redirects, proxy, CURLOPT_PRIVATE) and turns CURLcodes into its own advice.
//
// Options set by configure(): URL, request headers, protocols http and https only, one timeout for
// the whole transfer, NOSIGNAL (threads), any Accept-Encoding curl can decode, User-Agent
// "llmd-bench", the body written into `body`, curl's error text into `error_buffer`.
//
// Headers may carry secrets (Authorization): they live only in curl's header list, never in any
// text this class produces.
#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <curl/curl.h>

namespace llmd::scrape {

struct HttpGet {
  struct EasyDeleter {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
  };
  struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
  };

  explicit HttpGet(std::size_t body_cap) : max_body_bytes(body_cap) {}
  // curl holds pointers to this object (write data, error buffer): it must not move.
  HttpGet(const HttpGet&) = delete;
  HttpGet& operator=(const HttpGet&) = delete;

  // Creates the easy handle and sets the common options. False when libcurl could not create the
  // handle (out of memory); a header that cannot be appended is left out, as before.
  bool configure(const std::string& url, const std::vector<std::string>& header_lines,
                 std::chrono::milliseconds timeout);

  // After the transfer: reads status, content_type and duration from the handle (if any).
  void finish();

  // curl's own words for a failed transfer: the error buffer, or the generic text of `code` when
  // curl left it empty.
  std::string describe_error(CURLcode code) const;

  std::unique_ptr<CURL, EasyDeleter> easy;
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  std::string body;
  std::size_t max_body_bytes = 0;  // a longer answer fails with CURLE_WRITE_ERROR and body_too_large
  bool body_too_large = false;
  std::array<char, CURL_ERROR_SIZE> error_buffer{};

  // Set by finish().
  long status = 0;            // HTTP status, 0 when no answer came
  std::string content_type;   // "" when the server sent none
  std::chrono::microseconds duration{0};  // the whole transfer
};

}  // namespace llmd::scrape
