// Checks the steady-state promise of the sse module: once warmed up, parsing and decoding a stream
// performs no heap allocation. Counts operator new calls with test/support/allocation_counter.
#include <gtest/gtest.h>

#include "sse/openai_stream.hpp"
#include "sse/sse_test_support.hpp"
#include "support/allocation_counter.hpp"

namespace llmd::sse {
namespace {

// What the benchmark engine will do per event: decode it and keep numbers.
class DecodingListener : public SseListener {
 public:
  void on_event(const SseEvent& event) override {
    const OpenAiChunk chunk = m_decoder.decode(event.data);
    m_text_bytes += chunk.text_bytes;
    ++m_events;
  }
  void on_comment(std::string_view text) override { m_comment_bytes += text.size(); }
  OpenAiStreamDecoder& decoder() { return m_decoder; }
  std::size_t events() const { return m_events; }

 private:
  OpenAiStreamDecoder m_decoder;
  std::size_t m_text_bytes = 0;
  std::size_t m_comment_bytes = 0;
  std::size_t m_events = 0;
};

// Feeds `stream` in pieces of `piece_bytes`, as a fresh request on a pooled parser and decoder.
void run_stream(SseParser& parser, DecodingListener& listener, std::string_view stream, std::size_t piece_bytes) {
  parser.reset();
  listener.decoder().reset();
  for (std::size_t at = 0; at < stream.size(); at += piece_bytes) {
    if (!parser.feed(stream.substr(at, piece_bytes))) {
      std::abort();  // no gtest macro here: they allocate
    }
  }
}

TEST(SseAllocation, ParsingAndDecodingRecordedStreamsDoesNotAllocateOnceWarm) {
  std::vector<std::string> streams;
  for (const auto& path : test::sse_fixtures()) {
    streams.push_back(": keep-alive\r\n" + test::with_line_ends(test::read_file(path) + "\n", "\r\n"));
  }
  DecodingListener listener;
  SseParser parser(listener);
  for (const auto& stream : streams) {
    run_stream(parser, listener, stream, 1);  // warm-up: buffers reach their largest size
    run_stream(parser, listener, stream, stream.size());
  }
  const std::size_t events_before = listener.events();
  const llmd::test::CountAllocations counter;
  for (const auto& stream : streams) {
    for (const std::size_t piece_bytes : {std::size_t{1}, std::size_t{7}, std::size_t{100}, stream.size()}) {
      run_stream(parser, listener, stream, piece_bytes);
    }
  }
  EXPECT_EQ(counter.count(), 0u);
  // 4 feeding patterns x (2 + 5 + 6) data events in the three recorded streams.
  EXPECT_EQ(listener.events() - events_before, 4u * 13u);
}

TEST(SseAllocation, CounterSeesAllocations) {
  // Guards the test above against a counter that never counts.
  const llmd::test::CountAllocations counter;
  auto* value = new std::string(100, 'x');
  delete value;
  EXPECT_GE(counter.count(), 1u);
}

}  // namespace
}  // namespace llmd::sse
