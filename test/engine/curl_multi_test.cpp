// The event loop's wake-up coalescing (engine/curl_multi.hpp "Wake-ups"): when it pauses before a
// wait, for how long, and when it must not (libcurl transfers, unstamped reads, a busy loop).
#include "engine/curl_multi.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <vector>

#include <gtest/gtest.h>

namespace llmd::engine {
namespace {

using namespace std::chrono_literals;

// Side transfers with no transfer of their own: `readable` socketpairs in the loop's epoll set
// (tagged), each left readable so every wait reports it again (level-triggered).
class FakeSide final : public SideTransfers {
 public:
  explicit FakeSide(CurlMulti& loop, int readable = 0) {
    for (int i = 0; i < readable; ++i) {
      std::array<int, 2> pair{};
      EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair.data()), 0);
      EXPECT_EQ(write(pair[1], "x", 1), 1);
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.u64 = static_cast<std::uint64_t>(i) | k_side_socket_tag;
      EXPECT_EQ(epoll_ctl(loop.epoll_fd(), EPOLL_CTL_ADD, pair[0], &event), 0);
      m_fds.insert(m_fds.end(), pair.begin(), pair.end());
    }
  }
  ~FakeSide() override {
    for (const int fd : m_fds) {
      close(fd);
    }
  }
  FakeSide(const FakeSide&) = delete;
  FakeSide& operator=(const FakeSide&) = delete;

  void on_ready(std::uint64_t /*tag*/, std::uint32_t /*events*/) override { ++ready_calls; }
  TimePoint next_deadline() const override { return TimePoint::max(); }
  void run_due(TimePoint /*now*/) override {}
  void drain(TransferSink& /*sink*/) override {}
  std::size_t active() const override { return transfers; }
  bool may_pause() const override { return stamped; }

  std::size_t transfers = 1;
  bool stamped = true;
  int ready_calls = 0;

 private:
  std::vector<int> m_fds;
};

class NoSink final : public TransferSink {
 public:
  void on_transfer_done(RequestState& /*request*/, CURLcode /*result*/) override { ADD_FAILURE() << "no transfer ran"; }
};

std::unique_ptr<CurlMulti> make_loop() {
  auto loop = CurlMulti::create({});
  EXPECT_TRUE(loop) << (loop ? "" : loop.error());
  return std::move(*loop);
}

TEST(CurlMultiCoalesce, PausesUpToTheWindowWhenEveryReadIsStamped) {
  auto loop = make_loop();
  FakeSide side(*loop);
  loop->attach(side);
  loop->set_coalesce_window(2ms);
  NoSink sink;
  const TimePoint before = Clock::now();
  loop->wait_and_process(before + 50ms, sink);
  EXPECT_EQ(loop->wait_counts().waits, 1u);
  EXPECT_EQ(loop->wait_counts().paused, 1u);
  EXPECT_GE(loop->wait_counts().longest_pause, 1900us);
  EXPECT_LE(loop->wait_counts().longest_pause, 2ms);
  EXPECT_GE(Clock::now() - before, 50ms);  // the pause is part of the wait, not added to it
  loop->detach();
}

TEST(CurlMultiCoalesce, NeverPausesPastTheNextDeadline) {
  auto loop = make_loop();
  FakeSide side(*loop);
  loop->attach(side);
  loop->set_coalesce_window(5ms);
  NoSink sink;
  const TimePoint before = Clock::now();
  loop->wait_and_process(before + 1ms, sink);
  EXPECT_EQ(loop->wait_counts().paused, 1u);
  EXPECT_LE(loop->wait_counts().longest_pause, 1ms);
  // A deadline closer than the shortest useful pause: no pause at all.
  loop->wait_and_process(Clock::now() + 50us, sink);
  EXPECT_EQ(loop->wait_counts().waits, 2u);
  EXPECT_EQ(loop->wait_counts().paused, 1u);
  loop->detach();
}

TEST(CurlMultiCoalesce, DoesNotPauseWithoutStampsTransfersOrAWindow) {
  auto loop = make_loop();
  FakeSide side(*loop);
  loop->attach(side);
  NoSink sink;
  loop->wait_and_process(Clock::now() + 3ms, sink);  // no window set (engine.coalesce off)
  loop->set_coalesce_window(2ms);
  side.stamped = false;  // e.g. a read without the kernel's stamp: its time is when the loop read it
  loop->wait_and_process(Clock::now() + 3ms, sink);
  side.stamped = true;
  side.transfers = 0;  // nothing in flight: nothing to gather
  loop->wait_and_process(Clock::now() + 3ms, sink);
  EXPECT_EQ(loop->wait_counts().waits, 3u);
  EXPECT_EQ(loop->wait_counts().paused, 0u);
  loop->detach();
}

TEST(CurlMultiCoalesce, ABusyLoopDoesNotPause) {
  auto loop = make_loop();
  FakeSide side(*loop, 8);  // eight sockets ready at every wait: events back to back
  loop->attach(side);
  NoSink sink;
  loop->wait_and_process(Clock::now() + 50ms, sink);  // unpaused (no window yet): 8 events
  EXPECT_EQ(side.ready_calls, 8);
  loop->set_coalesce_window(2ms);
  loop->wait_and_process(Clock::now() + 50ms, sink);
  EXPECT_EQ(loop->wait_counts().paused, 0u);
  EXPECT_EQ(side.ready_calls, 16);
  loop->detach();
}

TEST(CurlMultiCoalesce, KeepsPausingWhileEachPauseGathersEvents) {
  auto loop = make_loop();
  FakeSide side(*loop, 1);  // one event per wait: a pause is worth taking
  loop->attach(side);
  loop->set_coalesce_window(1ms);
  NoSink sink;
  for (int i = 0; i < 3; ++i) {
    loop->wait_and_process(Clock::now() + 50ms, sink);
  }
  EXPECT_EQ(loop->wait_counts().paused, 3u);
  EXPECT_EQ(side.ready_calls, 3);
  loop->detach();
}

}  // namespace
}  // namespace llmd::engine
