#include "report/pushgateway.hpp"

#include <algorithm>
#include <memory>

#include <curl/curl.h>
#include <fmt/format.h>

#include "scrape/http_get.hpp"
#include "util/curl_global.hpp"

namespace llmd::report {

namespace {

// Bytes of the answer kept for the error message.
constexpr std::size_t k_max_answer_bytes = 64 * 1024;

bool is_unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

std::string curl_part(CURLU* url, CURLUPart part) {
  char* text = nullptr;
  std::string value;
  if (curl_url_get(url, part, &text, 0) == CURLUE_OK && text != nullptr) {
    value = text;
  }
  curl_free(text);
  return value;
}

}  // namespace

util::Result<void> check_pushgateway_url(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), &curl_url_cleanup);
  if (!parsed) {
    return util::fail("out of memory parsing the URL");
  }
  if (const CURLUcode code = curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0); code != CURLUE_OK) {
    return util::fail(fmt::format("not a URL ({}); expected e.g. http://127.0.0.1:9091", curl_url_strerror(code)));
  }
  const std::string scheme = curl_part(parsed.get(), CURLUPART_SCHEME);
  if (scheme != "http" && scheme != "https") {
    return util::fail(fmt::format("scheme \"{}\" is not http or https; expected e.g. http://127.0.0.1:9091", scheme));
  }
  if (curl_part(parsed.get(), CURLUPART_HOST).empty()) {
    return util::fail("the URL has no host; expected e.g. http://127.0.0.1:9091");
  }
  if (!curl_part(parsed.get(), CURLUPART_QUERY).empty() || !curl_part(parsed.get(), CURLUPART_FRAGMENT).empty()) {
    return util::fail("the URL has a query or fragment; give the Pushgateway's base URL, e.g. http://127.0.0.1:9091");
  }
  return {};
}

std::string base64url(std::string_view bytes) {
  static constexpr std::string_view k_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const auto n = (static_cast<unsigned char>(bytes[i]) << 16U) | (static_cast<unsigned char>(bytes[i + 1]) << 8U) |
                   static_cast<unsigned char>(bytes[i + 2]);
    out += k_alphabet[(n >> 18U) & 63U];
    out += k_alphabet[(n >> 12U) & 63U];
    out += k_alphabet[(n >> 6U) & 63U];
    out += k_alphabet[n & 63U];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    unsigned n = static_cast<unsigned char>(bytes[i]) << 16U;
    if (rest == 2) {
      n |= static_cast<unsigned char>(bytes[i + 1]) << 8U;
    }
    out += k_alphabet[(n >> 18U) & 63U];
    out += k_alphabet[(n >> 12U) & 63U];
    out += rest == 2 ? k_alphabet[(n >> 6U) & 63U] : '=';
    out += '=';
  }
  return out;
}

std::string pushgateway_group_url(std::string_view base, std::string_view scenario) {
  while (!base.empty() && base.back() == '/') {
    base.remove_suffix(1);
  }
  const bool plain = !scenario.empty() && std::all_of(scenario.begin(), scenario.end(), is_unreserved);
  const std::string value = plain ? std::string(scenario) : (scenario.empty() ? "=" : base64url(scenario));
  return fmt::format("{}/metrics/job/{}/scenario{}/{}", base, k_push_job, plain ? "" : "@base64", value);
}

util::Result<void> push_exposition(const std::string& group_url, const std::string& exposition,
                                   std::chrono::milliseconds timeout) {
  util::init_curl_once();
  scrape::HttpGet http(k_max_answer_bytes);
  if (!http.configure(group_url, {"Content-Type: text/plain; version=0.0.4"}, timeout)) {
    return util::fail("libcurl could not create a handle (out of memory)");
  }
  curl_easy_setopt(http.easy.get(), CURLOPT_CUSTOMREQUEST, "PUT");
  curl_easy_setopt(http.easy.get(), CURLOPT_POSTFIELDS, exposition.data());
  curl_easy_setopt(http.easy.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(exposition.size()));
  const CURLcode code = curl_easy_perform(http.easy.get());
  http.finish();
  if (code != CURLE_OK && !http.body_too_large) {
    return util::fail(http.describe_error(code));
  }
  if (http.status < 200 || http.status > 299) {
    const std::string first_line = http.body.substr(0, http.body.find('\n'));
    return util::fail(first_line.empty() ? fmt::format("HTTP {}", http.status)
                                         : fmt::format("HTTP {}: {}", http.status, first_line));
  }
  return {};
}

}  // namespace llmd::report
