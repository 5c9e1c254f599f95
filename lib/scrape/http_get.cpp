#include "scrape/http_get.hpp"


namespace llmd::scrape {

namespace {

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* get = static_cast<HttpGet*>(user);
  const std::size_t bytes = size * count;
  if (get->body.size() + bytes > get->max_body_bytes) {
    get->body_too_large = true;
    return 0;  // makes curl fail the transfer with CURLE_WRITE_ERROR
  }
  get->body.append(data, bytes);
  return bytes;
}

}  // namespace

bool HttpGet::configure(const std::string& url, const std::vector<std::string>& header_lines,
                        std::chrono::milliseconds timeout) {
  easy.reset(curl_easy_init());
  if (!easy) {
    return false;
  }
  for (const std::string& line : header_lines) {
    if (curl_slist* longer = curl_slist_append(headers.get(), line.c_str())) {
      static_cast<void>(headers.release());  // `longer` is the same list (or the first node)
      headers.reset(longer);
    }
  }
  CURL* h = easy.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // gzip/deflate if the server offers, decoded
  curl_easy_setopt(h, CURLOPT_USERAGENT, "llmd-bench");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer.data());
  return true;
}

void HttpGet::finish() {
  CURL* h = easy.get();
  if (h == nullptr) {
    return;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  const char* type = nullptr;
  curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &type);
  content_type = type != nullptr ? type : "";
  curl_off_t total_us = 0;
  curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total_us);
  duration = std::chrono::microseconds(total_us);
}

std::string HttpGet::describe_error(CURLcode code) const {
  return error_buffer[0] != '\0' ? std::string(error_buffer.data()) : std::string(curl_easy_strerror(code));
}

}  // namespace llmd::scrape
