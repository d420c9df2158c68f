#include "router/timed_socket.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "run_io_until.h"

namespace duet::router {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

using test::run_io_until;

// A connected pair on loopback: `timed` on the io_context under test, `peer` plain.
struct Pair {
  Pair(asio::io_context& io, Deadlines& deadlines, EdgeReactor& reactor)
      : acceptor(io, {asio::ip::make_address("127.0.0.1"), 0}),
        timed([&] {
          TimedSocket::Socket s(io);
          s.connect(acceptor.local_endpoint());
          return TimedSocket(std::move(s), deadlines, reactor);
        }()),
        peer(acceptor.accept()) {}

  tcp::acceptor acceptor;
  TimedSocket timed;
  tcp::socket peer;
};

TEST(TimedSocket, ReadPastItsLimitEndsAbortedAndSaysItExpired) {
  asio::io_context io;
  Deadlines deadlines(io);
  EdgeReactor reactor(io);
  Pair pair(io, deadlines, reactor);
  char byte;
  std::optional<boost::system::error_code> result;
  auto started = std::chrono::steady_clock::now();
  pair.timed.expires_after(200ms);
  pair.timed.async_read_some(asio::buffer(&byte, 1),
                             [&](boost::system::error_code ec, std::size_t) { result = ec; });
  run_io_until(io, [&] { return result.has_value(); });
  auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, asio::error::operation_aborted);
  EXPECT_TRUE(pair.timed.expired());
  EXPECT_GE(waited, 200ms);
  EXPECT_LT(waited, 5s);
}

TEST(TimedSocket, LimitSetAgainBeforeItPassesIsTheOneThatCounts) {
  asio::io_context io;
  Deadlines deadlines(io);
  EdgeReactor reactor(io);
  Pair pair(io, deadlines, reactor);
  char byte = 0;
  std::optional<boost::system::error_code> result;
  pair.timed.expires_after(100ms);
  pair.timed.expires_never();  // as a step that has no limit replaces one that had
  pair.timed.async_read_some(asio::buffer(&byte, 1),
                             [&](boost::system::error_code ec, std::size_t) { result = ec; });
  io.run_for(400ms);  // four sweeps: the first limit would have passed
  EXPECT_FALSE(result.has_value());
  EXPECT_FALSE(pair.timed.expired());
  asio::write(pair.peer, asio::buffer("x", 1));
  run_io_until(io, [&] { return result.has_value(); });
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
  EXPECT_EQ(byte, 'x');
}

// The wheel files a socket by its limit and, when the limit moves later, finds that out only
// when the old limit's slot comes round: both directions must still count.
TEST(TimedSocket, LimitMovedEarlierOrLaterIsTheOneThatCounts) {
  asio::io_context io;
  Deadlines deadlines(io);
  EdgeReactor reactor(io);
  Pair earlier(io, deadlines, reactor);
  Pair later(io, deadlines, reactor);
  char bytes[2];
  std::optional<boost::system::error_code> earlier_result, later_result;
  auto started = std::chrono::steady_clock::now();
  earlier.timed.expires_after(1h);
  earlier.timed.expires_after(200ms);
  later.timed.expires_after(100ms);
  later.timed.expires_after(2s);
  earlier.timed.async_read_some(asio::buffer(&bytes[0], 1),
                                [&](boost::system::error_code ec, std::size_t) { earlier_result = ec; });
  later.timed.async_read_some(asio::buffer(&bytes[1], 1),
                              [&](boost::system::error_code ec, std::size_t) { later_result = ec; });
  run_io_until(io, [&] { return earlier_result.has_value(); });
  ASSERT_TRUE(earlier_result.has_value());
  EXPECT_EQ(*earlier_result, asio::error::operation_aborted);
  EXPECT_TRUE(earlier.timed.expired());
  if (std::chrono::steady_clock::now() - started < 1500ms) {  // else this machine stalled past it
    EXPECT_FALSE(later_result.has_value());
  }
  run_io_until(io, [&] { return later_result.has_value(); });
  ASSERT_TRUE(later_result.has_value());
  EXPECT_EQ(*later_result, asio::error::operation_aborted);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 2s);
}

// Thousands of sockets with limits spread over many ticks: each expires at its own limit,
// none early, and the ones given no limit are left alone.
TEST(TimedSocket, ManySocketsEachExpireAtTheirOwnLimit) {
  asio::io_context io;
  Deadlines deadlines(io);
  EdgeReactor reactor(io);
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::vector<std::unique_ptr<TimedSocket>> sockets;
  std::vector<tcp::socket> peers;
  constexpr int kSockets = 200;
  for (int i = 0; i < kSockets; ++i) {
    TimedSocket::Socket s(io);
    s.connect(acceptor.local_endpoint());
    sockets.push_back(std::make_unique<TimedSocket>(std::move(s), deadlines, reactor));
    peers.push_back(acceptor.accept());
  }
  auto started = std::chrono::steady_clock::now();
  std::vector<std::optional<std::chrono::steady_clock::duration>> ended(kSockets);
  char sink[kSockets];
  for (int i = 0; i < kSockets; ++i) {
    if (i % 4 == 3)
      sockets[i]->expires_never();
    else
      sockets[i]->expires_after(100ms + (i % 8) * 50ms);
    sockets[i]->async_read_some(asio::buffer(&sink[i], 1), [&, i](boost::system::error_code, std::size_t) {
      ended[i] = std::chrono::steady_clock::now() - started;
    });
  }
  run_io_until(io, [&] {
    for (int i = 0; i < kSockets; ++i)
      if (i % 4 != 3 && !ended[i]) return false;
    return true;
  });
  for (int i = 0; i < kSockets; ++i) {
    if (i % 4 == 3) {
      EXPECT_FALSE(ended[i].has_value()) << i;
      EXPECT_FALSE(sockets[i]->expired()) << i;
    } else {
      ASSERT_TRUE(ended[i].has_value()) << i;
      EXPECT_GE(*ended[i], 100ms + (i % 8) * 50ms) << i;
      EXPECT_TRUE(sockets[i]->expired()) << i;
    }
  }
}

TEST(TimedSocket, TimerStopsWhenTheLastSocketIsGoneSoTheLoopEnds) {
  asio::io_context io;
  Deadlines deadlines(io);
  EdgeReactor reactor(io);
  {
    Pair pair(io, deadlines, reactor);
    pair.timed.expires_after(1h);
  }
  auto started = std::chrono::steady_clock::now();
  io.run();  // returns only once nothing is pending
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

}  // namespace
}  // namespace duet::router
