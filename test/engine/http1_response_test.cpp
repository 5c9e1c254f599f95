// The built-in client's response framing (engine/http1_response.hpp): every body framing, interim
// responses, keep-alive rules, errors, and the same callbacks for any split of the bytes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/http1_response_test_support.hpp"

namespace llmd::engine {
namespace {

using test::Http1Recording;
using test::parse_http1;
using testing::HasSubstr;

TEST(Http1Response, ContentLengthBodyAndFields) {
  const std::string bytes =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Served-By:  10.0.0.7:8000 \r\nContent-Length: 11\r\n\r\n"
      "data: x\n\nXY";
  const Http1Recording got = parse_http1(bytes, {});
  EXPECT_EQ(got.status, 200u);
  EXPECT_EQ(got.body, "data: x\n\nXY");
  EXPECT_EQ(got.end, Http1Response::State::done);
  EXPECT_TRUE(got.keep_alive);
  EXPECT_EQ(got.left_over, 0u);
  ASSERT_EQ(got.fields.size(), 3u);
  EXPECT_EQ(got.fields[1], (std::pair<std::string, std::string>{"X-Served-By", "10.0.0.7:8000"}));
}

TEST(Http1Response, ChunkedBodyIsDechunkedAndEndsAtTheLastChunk) {
  const std::string bytes =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "9\r\ndata: a\n\n\r\n9;ext=1\r\ndata: b\n\n\r\n0\r\n\r\n";
  const Http1Recording got = parse_http1(bytes, {});
  EXPECT_EQ(got.body, "data: a\n\ndata: b\n\n");
  EXPECT_EQ(got.end, Http1Response::State::done);
  EXPECT_TRUE(got.keep_alive);
}

TEST(Http1Response, BytesAfterTheResponseAreNotConsumed) {
  const std::string bytes = "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n";
  const Http1Recording got = parse_http1(bytes, {});
  EXPECT_EQ(got.status, 204u);
  EXPECT_EQ(got.end, Http1Response::State::done);
  EXPECT_EQ(got.left_over, std::string("HTTP/1.1 200 OK\r\n").size());
}

TEST(Http1Response, BodyUntilCloseEndsAtFinish) {
  const std::string bytes = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: [DONE]\n\n";
  const Http1Recording got = parse_http1(bytes, {}, /*close_at_end=*/true);
  EXPECT_EQ(got.body, "data: [DONE]\n\n");
  EXPECT_EQ(got.end, Http1Response::State::done);
  EXPECT_FALSE(got.keep_alive);
}

TEST(Http1Response, InterimContinueIsSkipped) {
  const std::string bytes = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\nno";
  const Http1Recording got = parse_http1(bytes, {});
  EXPECT_EQ(got.status, 503u);
  EXPECT_EQ(got.body, "no");
  EXPECT_EQ(got.fields.size(), 1u);
  EXPECT_EQ(got.end, Http1Response::State::done);
}

TEST(Http1Response, KeepAliveRules) {
  EXPECT_FALSE(parse_http1("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", {}).keep_alive);
  EXPECT_FALSE(parse_http1("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", {}).keep_alive);
  EXPECT_TRUE(parse_http1("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", {}).keep_alive);
}

TEST(Http1Response, CutBodiesAreErrorsAtFinish) {
  const Http1Recording short_length =
      parse_http1("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", {}, /*close_at_end=*/true);
  EXPECT_EQ(short_length.end, Http1Response::State::error);
  EXPECT_EQ(short_length.body, "abc");
  EXPECT_THAT(short_length.error, HasSubstr("partial"));
  const Http1Recording cut_chunk =
      parse_http1("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", {}, /*close_at_end=*/true);
  EXPECT_EQ(cut_chunk.end, Http1Response::State::error);
  const Http1Recording cut_header = parse_http1("HTTP/1.1 20", {}, /*close_at_end=*/true);
  EXPECT_EQ(cut_header.end, Http1Response::State::error);
  EXPECT_EQ(cut_header.status, 0u);
}

TEST(Http1Response, GarbageIsAnErrorNamingWhy) {
  const Http1Recording got = parse_http1("SSH-2.0-OpenSSH_9.2\r\n\r\n", {});
  EXPECT_EQ(got.end, Http1Response::State::error);
  EXPECT_FALSE(got.error.empty());
  const Http1Recording bad_chunk = parse_http1("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", {});
  EXPECT_EQ(bad_chunk.end, Http1Response::State::error);
  EXPECT_EQ(bad_chunk.status, 200u);
}

TEST(Http1Response, HeaderLargerThanTheLimitIsAnError) {
  const std::string bytes =
      "HTTP/1.1 200 OK\r\nX-Big: " + std::string(Http1Response::k_header_limit, 'a') + "\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(parse_http1(bytes, {}).end, Http1Response::State::error);
}

TEST(Http1Response, ListenerRejectionStopsTheParse) {
  const std::string bytes = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef";
  const Http1Recording got = parse_http1(bytes, {}, false, /*reject_body_after=*/2);
  EXPECT_EQ(got.end, Http1Response::State::rejected);
}

TEST(Http1Response, ResetServesTheNextResponseOnTheConnection) {
  test::Http1Recorder recorder;
  Http1Response response(recorder);
  const std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na";
  ASSERT_EQ(response.feed(first).state, Http1Response::State::done);
  response.reset();
  const auto fed = response.feed("HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nb");
  EXPECT_EQ(fed.state, Http1Response::State::done);
  EXPECT_EQ(response.status(), 404u);
  EXPECT_EQ(recorder.recording.body, "ab");
}

// Every split of the bytes gives the same callbacks: byte by byte, and at every single cut.
TEST(Http1Response, AnySplitGivesTheSameParse) {
  const std::string bytes =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
      "16\r\ndata: {\"choices\":[]}\n\n\r\n3\r\nabc\r\n0\r\nTrailer: x\r\n\r\n";
  const Http1Recording whole = parse_http1(bytes, {});
  ASSERT_EQ(whole.end, Http1Response::State::done);
  EXPECT_EQ(parse_http1(bytes, test::every_byte(bytes.size())), whole);
  for (std::size_t cut = 1; cut < bytes.size(); ++cut) {
    EXPECT_EQ(parse_http1(bytes, {cut}), whole) << "cut at " << cut;
  }
}

}  // namespace
}  // namespace llmd::engine
