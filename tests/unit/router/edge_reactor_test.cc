// TimedSocket's reads, writes and connects through the worker's edge-triggered reactor
// (router/edge_reactor.h), on real loopback sockets: an operation whose socket said "nothing
// there" waits for the next edge, and every way an operation can end reaches its handler
// exactly once (or, when its socket is destroyed, never).

#include "router/edge_reactor.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "router/timed_socket.h"
#include "run_io_until.h"

namespace duet::router {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

using test::run_io_until;

struct Reactor {
  asio::io_context io;
  Deadlines deadlines{io};
  EdgeReactor reactor{io};
  tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};

  // A connected pair: the TimedSocket under test (accepted) and the peer (a blocking socket).
  std::pair<std::unique_ptr<TimedSocket>, TimedSocket::Socket> pair() {
    TimedSocket::Socket peer(io);
    peer.connect(acceptor.local_endpoint());
    return {std::make_unique<TimedSocket>(acceptor.accept(io), deadlines, reactor),
            std::move(peer)};
  }
};

struct ReadResult {
  std::optional<error_code> ec;
  std::size_t n = 0;
  auto handler() {
    return [this](error_code e, std::size_t bytes) {
      ASSERT_FALSE(ec.has_value()) << "a handler ran twice";
      ec = e;
      n = bytes;
    };
  }
};

TEST(EdgeReactor, AReadWaitsForBytesThatComeLaterAndTheNextShortOneForTheNextEdge) {
  Reactor r;
  auto [socket, peer] = r.pair();
  char buffer[64];
  ReadResult first;
  socket->async_read_some(asio::buffer(buffer), first.handler());
  r.io.poll();
  EXPECT_FALSE(first.ec.has_value());
  asio::write(peer, asio::buffer(std::string("abc")));
  ASSERT_TRUE(run_io_until(r.io, [&] { return first.ec.has_value(); }));
  EXPECT_FALSE(*first.ec);
  EXPECT_EQ(std::string(buffer, first.n), "abc");

  // That read found less than it asked for: the next one waits for the next edge.
  ReadResult second;
  socket->async_read_some(asio::buffer(buffer), second.handler());
  r.io.poll();
  EXPECT_FALSE(second.ec.has_value());
  asio::write(peer, asio::buffer(std::string("defg")));
  ASSERT_TRUE(run_io_until(r.io, [&] { return second.ec.has_value(); }));
  EXPECT_FALSE(*second.ec);
  EXPECT_EQ(std::string(buffer, second.n), "defg");
}

// The peer's last bytes and its FIN can come in one edge: the read that takes the bytes
// must not leave the end of the stream unseen.
TEST(EdgeReactor, BytesThenTheEndOfTheStreamAreBothRead) {
  Reactor r;
  auto [socket, peer] = r.pair();
  char buffer[64];
  ReadResult waiting;
  socket->async_read_some(asio::buffer(buffer, 1), waiting.handler());  // pending: no bytes yet
  r.io.poll();
  asio::write(peer, asio::buffer(std::string("xyz")));
  peer.close();
  ASSERT_TRUE(run_io_until(r.io, [&] { return waiting.ec.has_value(); }));
  std::string got(buffer, waiting.n);
  for (;;) {
    ReadResult next;
    socket->async_read_some(asio::buffer(buffer), next.handler());
    ASSERT_TRUE(run_io_until(r.io, [&] { return next.ec.has_value(); }));
    if (*next.ec) {
      EXPECT_EQ(*next.ec, asio::error::eof);
      break;
    }
    got.append(buffer, next.n);
  }
  EXPECT_EQ(got, "xyz");
}

TEST(EdgeReactor, WaitForBytesThenReadNowAndNothingMoreIsThere) {
  Reactor r;
  auto [socket, peer] = r.pair();
  char buffer[64];
  error_code ec;
  EXPECT_EQ(socket->read_now(asio::buffer(buffer), ec), 0u);
  EXPECT_EQ(ec, asio::error::would_block);
  std::optional<error_code> readable;
  socket->async_wait_readable([&](error_code e) { readable = e; });
  r.io.poll();
  EXPECT_FALSE(readable.has_value());
  asio::write(peer, asio::buffer(std::string("hello")));
  ASSERT_TRUE(run_io_until(r.io, [&] { return readable.has_value(); }));
  EXPECT_FALSE(*readable);
  std::size_t n = socket->read_now(asio::buffer(buffer), ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(std::string(buffer, n), "hello");
  EXPECT_EQ(socket->read_now(asio::buffer(buffer), ec), 0u);
  EXPECT_EQ(ec, asio::error::would_block);
}

TEST(EdgeReactor, AWriteToAFullSocketWaitsForRoomAndThenGoesOut) {
  Reactor r;
  auto [socket, peer] = r.pair();
  std::string block(64 * 1024, 'w');
  std::size_t sent = 0;
  error_code ec;
  for (int i = 0; i < 10000; ++i) {  // until the kernel's buffers are full
    std::size_t n = socket->write_now(asio::buffer(block), ec);
    ASSERT_FALSE(ec);
    if (n == 0) break;
    sent += n;
  }
  ReadResult write;
  socket->async_write_some(asio::buffer(block), write.handler());
  r.io.poll();
  EXPECT_FALSE(write.ec.has_value());
  std::string drained(sent, '\0');
  asio::read(peer, asio::buffer(drained));  // room again
  ASSERT_TRUE(run_io_until(r.io, [&] { return write.ec.has_value(); }));
  EXPECT_FALSE(*write.ec);
  EXPECT_GT(write.n, 0u);
  std::string rest(write.n, '\0');
  asio::read(peer, asio::buffer(rest));
  EXPECT_EQ(rest, block.substr(0, write.n));
}

TEST(EdgeReactor, ConnectOpensTheSocketAndBytesGoBothWays) {
  Reactor r;
  TimedSocket socket(r.io.get_executor(), r.deadlines, r.reactor);
  EXPECT_FALSE(socket.is_open());
  std::optional<error_code> connected;
  socket.async_connect(r.acceptor.local_endpoint(), [&](error_code e) { connected = e; });
  tcp::socket peer = r.acceptor.accept();
  ASSERT_TRUE(run_io_until(r.io, [&] { return connected.has_value(); }));
  ASSERT_FALSE(*connected) << connected->message();
  EXPECT_TRUE(socket.is_open());
  error_code ec;
  EXPECT_EQ(socket.write_now(asio::buffer(std::string("ping")), ec), 4u);
  char buffer[4];
  asio::read(peer, asio::buffer(buffer));
  EXPECT_EQ(std::string(buffer, 4), "ping");
  asio::write(peer, asio::buffer(std::string("pong")));
  ReadResult read;
  socket.async_read_some(asio::buffer(buffer), read.handler());
  ASSERT_TRUE(run_io_until(r.io, [&] { return read.ec.has_value(); }));
  EXPECT_EQ(std::string(buffer, read.n), "pong");
}

TEST(EdgeReactor, ConnectToAPortNobodyListensOnEndsWithTheRefusal) {
  Reactor r;
  tcp::endpoint closed;
  {
    tcp::acceptor gone(r.io, {asio::ip::make_address("127.0.0.1"), 0});
    closed = gone.local_endpoint();
  }
  TimedSocket socket(r.io.get_executor(), r.deadlines, r.reactor);
  std::optional<error_code> connected;
  socket.async_connect(closed, [&](error_code e) { connected = e; });
  ASSERT_TRUE(run_io_until(r.io, [&] { return connected.has_value(); }));
  EXPECT_EQ(*connected, asio::error::connection_refused);
}

TEST(EdgeReactor, CancelAndCloseEndPendingOperationsAbortedOnce) {
  Reactor r;
  auto [socket, peer] = r.pair();
  char buffer[8];
  ReadResult cancelled;
  socket->async_read_some(asio::buffer(buffer), cancelled.handler());
  socket->cancel();
  ASSERT_TRUE(run_io_until(r.io, [&] { return cancelled.ec.has_value(); }));
  EXPECT_EQ(*cancelled.ec, asio::error::operation_aborted);
  EXPECT_TRUE(socket->is_open());

  ReadResult closed;
  socket->async_read_some(asio::buffer(buffer), closed.handler());
  socket->close();
  asio::write(peer, asio::buffer(std::string("late")));  // after close: reaches no handler
  ASSERT_TRUE(run_io_until(r.io, [&] { return closed.ec.has_value(); }));
  EXPECT_EQ(*closed.ec, asio::error::operation_aborted);
  r.io.poll();
  EXPECT_FALSE(socket->is_open());

  ReadResult after;
  socket->async_read_some(asio::buffer(buffer), after.handler());
  ASSERT_TRUE(run_io_until(r.io, [&] { return after.ec.has_value(); }));
  EXPECT_EQ(*after.ec, asio::error::bad_descriptor);
}

TEST(EdgeReactor, ASecondReadWhileOneIsPendingIsRefused) {
  Reactor r;
  auto [socket, peer] = r.pair();
  char a[8], b[8];
  ReadResult first, second;
  socket->async_read_some(asio::buffer(a), first.handler());
  socket->async_read_some(asio::buffer(b), second.handler());
  ASSERT_TRUE(run_io_until(r.io, [&] { return second.ec.has_value(); }));
  EXPECT_EQ(*second.ec, asio::error::already_started);
  EXPECT_FALSE(first.ec.has_value());
  asio::write(peer, asio::buffer(std::string("k")));
  ASSERT_TRUE(run_io_until(r.io, [&] { return first.ec.has_value(); }));
  EXPECT_EQ(first.n, 1u);
}

// Events are taken in batches. A handler that destroys sockets whose events are later in
// the same batch, and opens new ones that take their slots, must not pass those events on:
// not to the freed sockets (under AddressSanitizer, a use after free), nor to the new ones
// (their waits for bytes would end with no byte sent to them).
TEST(EdgeReactor, EventsOfASocketDestroyedMidBatchReachNeitherItNorItsSlotsNextOwner) {
  Reactor r;
  constexpr int kPairs = 8;
  std::vector<std::unique_ptr<TimedSocket>> sockets;
  std::vector<TimedSocket::Socket> peers;
  for (int i = 0; i < kPairs; ++i) {
    auto [socket, peer] = r.pair();
    sockets.push_back(std::move(socket));
    peers.push_back(std::move(peer));
  }
  char buffers[kPairs][8];
  int completed = 0;
  std::vector<std::unique_ptr<TimedSocket>> newcomers;
  std::vector<TimedSocket::Socket> newcomer_peers;
  int newcomers_woken = 0;
  for (int i = 0; i < kPairs; ++i) {
    sockets[i]->async_read_some(asio::buffer(buffers[i]), [&, i](error_code ec, std::size_t) {
      EXPECT_FALSE(ec);
      ++completed;
      for (int j = 0; j < kPairs; ++j) {
        if (j == i) continue;
        sockets[j].reset();  // its read is dropped unrun
        auto [socket, peer] = r.pair();
        char probe;
        error_code would_block;
        socket->read_now(asio::buffer(&probe, 1), would_block);  // nothing there: flag down
        socket->async_wait_readable([&](error_code) { ++newcomers_woken; });
        newcomers.push_back(std::move(socket));
        newcomer_peers.push_back(std::move(peer));
      }
    });
  }
  r.io.poll();
  for (auto& peer : peers) asio::write(peer, asio::buffer(std::string("e")));
  ASSERT_TRUE(run_io_until(r.io, [&] { return completed > 0; }));
  for (int i = 0; i < 20; ++i) r.io.poll();
  EXPECT_EQ(completed, 1);
  EXPECT_EQ(newcomers_woken, 0);
  // The newcomers work: bytes for one reach its wait.
  asio::write(newcomer_peers.front(), asio::buffer(std::string("n")));
  EXPECT_TRUE(run_io_until(r.io, [&] { return newcomers_woken == 1; }));
  for (auto& socket : newcomers) socket->close();
  r.io.poll();
}

// Two sockets of one worker bouncing a byte forever keep the reactor busy in its slice;
// what goes through the io_context (a timer, another thread's post) still gets its turn.
TEST(EdgeReactor, BusySocketsStillLetTimersAndOtherThreadsPostsRun) {
  Reactor r;
  auto [a, peer] = r.pair();
  TimedSocket b(std::move(peer), r.deadlines, r.reactor);
  int bounces = 0;
  bool stop = false;
  char byte_a = 'x', byte_b = 0;
  std::function<void(TimedSocket&, char&)> bounce = [&](TimedSocket& s, char& byte) {
    s.async_read_some(asio::buffer(&byte, 1), [&](error_code ec, std::size_t) {
      if (ec || stop) return;
      ++bounces;
      error_code ignored;
      s.write_now(asio::buffer(&byte, 1), ignored);
      bounce(s, byte);
    });
  };
  bounce(*a, byte_a);
  bounce(b, byte_b);
  error_code ec;
  ASSERT_EQ(a->write_now(asio::buffer(&byte_a, 1), ec), 1u);

  bool timer_fired = false, post_ran = false;
  asio::steady_timer timer(r.io, 20ms);
  timer.async_wait([&](error_code) { timer_fired = true; });
  std::thread other([&] { asio::post(r.io, [&] { post_ran = true; }); });
  other.join();
  EXPECT_TRUE(run_io_until(r.io, [&] { return timer_fired && post_ran && bounces > 100; }))
      << "bounces " << bounces << ", timer " << timer_fired << ", post " << post_ran;
  stop = true;
  a->close();
  b.close();
  r.io.poll();
}

}  // namespace
}  // namespace duet::router
