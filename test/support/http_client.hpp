#pragma once
// Test support: a small blocking libcurl client (easy interface). It records when each piece of
// the body arrived, so tests can tell a stream from one buffered blob. Not the product's engine.
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace llmd::test {

struct HttpResult {
  long status = 0;                           // 0 when the transfer failed before a response
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::vector<std::pair<double, std::size_t>> pieces;  // (seconds since the request began, bytes) per write callback
  std::string error;                         // curl's error text when the transfer failed (e.g. cut stream)
};

HttpResult http_request(const std::string& method, const std::string& url, const std::string& body = "",
                        const std::vector<std::string>& headers = {}, long timeout_ms = 30000);

inline HttpResult http_get(const std::string& url, const std::vector<std::string>& headers = {}) {
  return http_request("GET", url, "", headers);
}
inline HttpResult http_post(const std::string& url, const std::string& body, const std::vector<std::string>& headers = {}) {
  return http_request("POST", url, body, headers);
}

}  // namespace llmd::test
