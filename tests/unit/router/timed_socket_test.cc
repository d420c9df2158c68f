#include "router/timed_socket.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <optional>

namespace duet::router {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Runs handlers until `done` or 5 s have passed.
template <class Done>
void run_until(asio::io_context& io, Done done) {
  auto until = std::chrono::steady_clock::now() + 5s;
  while (!done() && std::chrono::steady_clock::now() < until) io.run_one_for(50ms);
}

// A connected pair on loopback: `timed` on the io_context under test, `peer` plain.
struct Pair {
  explicit Pair(asio::io_context& io, Deadlines& deadlines)
      : acceptor(io, {asio::ip::make_address("127.0.0.1"), 0}),
        timed([&] {
          TimedSocket::Socket s(io);
          s.connect(acceptor.local_endpoint());
          return TimedSocket(std::move(s), deadlines);
        }()),
        peer(acceptor.accept()) {}

  tcp::acceptor acceptor;
  TimedSocket timed;
  tcp::socket peer;
};

TEST(TimedSocket, ReadPastItsLimitEndsAbortedAndSaysItExpired) {
  asio::io_context io;
  Deadlines deadlines(io);
  Pair pair(io, deadlines);
  char byte;
  std::optional<boost::system::error_code> result;
  auto started = std::chrono::steady_clock::now();
  pair.timed.expires_after(200ms);
  pair.timed.async_read_some(asio::buffer(&byte, 1),
                             [&](boost::system::error_code ec, std::size_t) { result = ec; });
  run_until(io, [&] { return result.has_value(); });
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
  Pair pair(io, deadlines);
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
  run_until(io, [&] { return result.has_value(); });
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
  EXPECT_EQ(byte, 'x');
}

TEST(TimedSocket, TimerStopsWhenTheLastSocketIsGoneSoTheLoopEnds) {
  asio::io_context io;
  Deadlines deadlines(io);
  {
    Pair pair(io, deadlines);
    pair.timed.expires_after(1h);
  }
  auto started = std::chrono::steady_clock::now();
  io.run();  // returns only once nothing is pending
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

}  // namespace
}  // namespace duet::router
