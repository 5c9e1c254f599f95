// HttpGet (the GET shared by UrlSource and PrometheusSource) against a real HTTP server on 127.0.0.1.
#include "scrape/http_get.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "scrape/http_test_server.hpp"
#include "util/curl_global.hpp"

namespace llmd::scrape {
namespace {

using testing::CannedResponse;
using testing::HttpTestServer;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::chrono::milliseconds k_timeout{5000};

CannedResponse text_answer(std::string body) {
  return {200, "OK", "text/plain; charset=utf-8", std::move(body), {}, {}};
}

CURLcode perform(HttpGet& http, const std::string& url, const std::vector<std::string>& headers) {
  util::init_curl_once();
  if (!http.configure(url, headers, k_timeout)) {
    ADD_FAILURE() << "configure failed";
    return CURLE_FAILED_INIT;
  }
  const CURLcode code = curl_easy_perform(http.easy.get());
  http.finish();
  return code;
}

TEST(HttpGet, SendsHeadersAndReadsBodyStatusAndContentType) {
  HttpTestServer server({{"/x", text_answer("hello\n")}});
  HttpGet http(1024);
  ASSERT_EQ(perform(http, server.url("/x"), {"Accept: text/plain", "X-Extra: 1"}), CURLE_OK);
  EXPECT_EQ(http.body, "hello\n");
  EXPECT_EQ(http.status, 200);
  EXPECT_EQ(http.content_type, "text/plain; charset=utf-8");
  EXPECT_GT(http.duration.count(), 0);
  EXPECT_FALSE(http.body_too_large);
  ASSERT_EQ(server.requests().size(), 1u);
  const std::string request = server.requests()[0];
  EXPECT_THAT(request, HasSubstr("\r\nAccept: text/plain\r\n"));
  EXPECT_THAT(request, HasSubstr("\r\nX-Extra: 1"));
  EXPECT_THAT(request, HasSubstr("\r\nUser-Agent: llmd-bench"));
  EXPECT_THAT(request, HasSubstr("\r\nAccept-Encoding: "));  // decoded compression offered
}

TEST(HttpGet, ReadsNon200StatusWithoutFailingTheTransfer) {
  HttpTestServer server(std::map<std::string, CannedResponse>{});  // every path: 404
  HttpGet http(1024);
  ASSERT_EQ(perform(http, server.url("/missing"), {}), CURLE_OK);
  EXPECT_EQ(http.status, 404);
}

TEST(HttpGet, RefusesBodyOverTheCap) {
  HttpTestServer server({{"/big", text_answer(std::string(100, 'x'))}});
  HttpGet http(99);
  EXPECT_EQ(perform(http, server.url("/big"), {}), CURLE_WRITE_ERROR);
  EXPECT_TRUE(http.body_too_large);
  EXPECT_LE(http.body.size(), 99u);
}

TEST(HttpGet, BodyExactlyAtTheCapIsAccepted) {
  HttpTestServer server({{"/full", text_answer(std::string(100, 'x'))}});
  HttpGet http(100);
  ASSERT_EQ(perform(http, server.url("/full"), {}), CURLE_OK);
  EXPECT_EQ(http.body.size(), 100u);
  EXPECT_FALSE(http.body_too_large);
}

TEST(HttpGet, DescribesErrorsFromCurlsBufferElseItsGenericText) {
  HttpGet refused(1024);
  const std::string url = "http://127.0.0.1:" + std::to_string(testing::closed_port()) + "/metrics";
  EXPECT_EQ(perform(refused, url, {}), CURLE_COULDNT_CONNECT);
  EXPECT_EQ(refused.status, 0);
  // curl's specific text (names the address), not the generic "Couldn't connect to server".
  EXPECT_THAT(refused.describe_error(CURLE_COULDNT_CONNECT), HasSubstr("127.0.0.1"));

  const HttpGet unused(1024);
  EXPECT_EQ(unused.describe_error(CURLE_OUT_OF_MEMORY), curl_easy_strerror(CURLE_OUT_OF_MEMORY));
}

TEST(HttpGet, OnlyHttpAndHttpsAreAllowed) {
  HttpGet http(1024);
  EXPECT_EQ(perform(http, "file:///etc/hostname", {}), CURLE_UNSUPPORTED_PROTOCOL);
  EXPECT_TRUE(http.body.empty());
}

TEST(HttpGet, HeadersNeverReachTheErrorText) {
  HttpGet http(1024);
  const std::string url = "http://127.0.0.1:" + std::to_string(testing::closed_port()) + "/";
  const CURLcode code = perform(http, url, {"Authorization: Bearer s3cr3t-token"});
  EXPECT_NE(code, CURLE_OK);
  EXPECT_THAT(http.describe_error(code), Not(HasSubstr("s3cr3t")));
}

}  // namespace
}  // namespace llmd::scrape
