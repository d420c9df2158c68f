// TlsSocket (router/tls_socket.h): OpenSSL reading and writing the socket itself through the
// worker's edge-triggered reactor, against Asio's TLS client on real loopback sockets. Each
// test drives one of the ways an operation must wait (for the peer's bytes, for room in a
// full send buffer, both at once) or end (close_notify, a bare FIN, plain text on the TLS
// port, a close mid-handshake), each handler exactly once.

#include "router/tls_socket.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <optional>
#include <string>

#include "duet/common/tls.h"
#include "support/temp_dir.h"
#include "support/test_keys.h"
#include "run_io_until.h"

namespace duet::router {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

// Handshakes under the sanitizers take longer than plain loopback reads.
template <class Done>
bool run_tls_until(asio::io_context& io, Done done) {
  return test::run_io_until(io, done, 10s);
}

// What an operation ended with; a second end fails the test.
struct Outcome {
  std::optional<error_code> ec;
  std::size_t n = 0;
  auto with_size() {
    return [this](error_code e, std::size_t bytes) {
      ASSERT_FALSE(ec.has_value()) << "a handler ran twice";
      ec = e;
      n = bytes;
    };
  }
  auto without_size() {
    return [this](error_code e) {
      ASSERT_FALSE(ec.has_value()) << "a handler ran twice";
      ec = e;
    };
  }
  bool done() const { return ec.has_value(); }
};

// Only the sender's: a receive buffer that small stalls loopback TCP itself (a window under
// half a 64 KiB segment is not used until the persist timer probes).
void shrink_send_buffer(int fd) {
  int size = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

// A worker's reactor with a TLS listener's context, and Asio's TLS client in the same
// io_context as the peer.
struct TlsPair {
  duet::test::TempDir dir;
  asio::io_context io;
  Deadlines deadlines{io};
  EdgeReactor reactor{io};
  tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
  std::shared_ptr<ssl::context> server_context;
  ssl::context client_context{ssl::context::tls_client};
  std::unique_ptr<TlsSocket> server;
  std::unique_ptr<ssl::stream<tcp::socket>> client;

  explicit TlsPair(bool small_send_buffer = false) {
    duet::test::write_self_signed(dir / "tls.crt", dir / "tls.key");
    server_context = tls::make_server_context({.cert = (dir / "tls.crt").string(),
                                               .key = (dir / "tls.key").string(),
                                               .min_version = "1.3",
                                               .client_ca = {}});
    client_context.set_verify_mode(ssl::verify_none);
    client = std::make_unique<ssl::stream<tcp::socket>>(io, client_context);
    client->next_layer().connect(acceptor.local_endpoint());
    TimedSocket::Socket accepted = acceptor.accept(io);
    if (small_send_buffer) shrink_send_buffer(accepted.native_handle());
    // Moved once more, as a session takes its stream: OpenSSL's side must follow it.
    TlsSocket made(TimedSocket(std::move(accepted), deadlines, reactor), *server_context);
    server = std::make_unique<TlsSocket>(std::move(made));
  }

  // A write of `bytes` (which must outlive it) and a read into `into` started side by side
  // on the server, and what can run at once run.
  void start_write_and_read(const std::string& bytes, Outcome& wrote, asio::mutable_buffer into,
                            Outcome& read) {
    asio::async_write(*server, asio::buffer(bytes), wrote.with_size());
    server->async_read_some(into, read.with_size());
    io.poll();
  }

  void handshake() {
    Outcome server_side, client_side;
    server->async_handshake(ssl::stream_base::server, server_side.without_size());
    client->async_handshake(ssl::stream_base::client, client_side.without_size());
    ASSERT_TRUE(run_tls_until(io, [&] { return server_side.done() && client_side.done(); }));
    ASSERT_FALSE(*server_side.ec) << server_side.ec->message();
    ASSERT_FALSE(*client_side.ec) << client_side.ec->message();
  }
};

std::string pattern(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return bytes;
}

TEST(TlsSocket, HandshakeThenBytesBothWaysAfterTheSocketMoved) {
  TlsPair p;
  p.handshake();
  char buffer[64];
  Outcome read;
  p.server->async_read_some(asio::buffer(buffer), read.with_size());
  asio::write(*p.client, asio::buffer(std::string("hello")));
  ASSERT_TRUE(run_tls_until(p.io, [&] { return read.done(); }));
  ASSERT_FALSE(*read.ec) << read.ec->message();
  EXPECT_EQ(std::string(buffer, read.n), "hello");

  Outcome wrote;
  std::string answer = "world";
  asio::async_write(*p.server, asio::buffer(answer), wrote.with_size());
  ASSERT_TRUE(run_tls_until(p.io, [&] { return wrote.done(); }));
  ASSERT_FALSE(*wrote.ec);
  EXPECT_EQ(wrote.n, answer.size());
  char got[5];
  asio::read(*p.client, asio::buffer(got));
  EXPECT_EQ(std::string(got, sizeof got), "world");
}

// The read is started before the client sends: OpenSSL finds the socket empty without a
// syscall once a read found it so, and the next edge finishes the read.
TEST(TlsSocket, AReadStartedBeforeTheBytesWaitsForThem) {
  TlsPair p;
  p.handshake();
  char buffer[64];
  for (std::string message : {"first", "second, later"}) {
    Outcome read;
    p.server->async_read_some(asio::buffer(buffer), read.with_size());
    p.io.poll();
    EXPECT_FALSE(read.done()) << "a read finished with nothing sent";
    asio::write(*p.client, asio::buffer(message));
    ASSERT_TRUE(run_tls_until(p.io, [&] { return read.done(); }));
    ASSERT_FALSE(*read.ec) << read.ec->message();
    EXPECT_EQ(std::string(buffer, read.n), message);
  }
}

// A write far larger than both sockets' buffers stalls on a full send buffer (OpenSSL's
// WANT_WRITE) while the client reads nothing, and ends whole once it reads; a read started
// meanwhile on the same connection is not held up by it.
TEST(TlsSocket, AWriteThatFillsTheSendBufferEndsWholeBesideAPendingRead) {
  TlsPair p(/*small_send_buffer=*/true);
  p.handshake();
  std::string big = pattern(1 << 20);
  char buffer[64];
  Outcome wrote, read;
  p.start_write_and_read(big, wrote, asio::buffer(buffer), read);
  EXPECT_FALSE(wrote.done()) << "1 MiB went into a 4 KiB send buffer and an unread receive buffer";

  std::string ping = "ping";
  Outcome client_wrote;
  asio::async_write(*p.client, asio::buffer(ping), client_wrote.with_size());
  ASSERT_TRUE(run_tls_until(p.io, [&] { return read.done() && client_wrote.done(); }));
  ASSERT_FALSE(*read.ec) << read.ec->message();
  EXPECT_EQ(std::string(buffer, read.n), "ping");
  EXPECT_FALSE(wrote.done());

  std::string got(big.size(), '\0');
  Outcome client_read;
  asio::async_read(*p.client, asio::buffer(got), client_read.with_size());
  ASSERT_TRUE(run_tls_until(p.io, [&] { return wrote.done() && client_read.done(); }))
      << "written: " << wrote.done() << ", read: " << client_read.done();
  ASSERT_FALSE(*wrote.ec) << wrote.ec->message();
  ASSERT_FALSE(*client_read.ec) << client_read.ec->message();
  EXPECT_EQ(wrote.n, big.size());
  EXPECT_TRUE(got == big) << "the bytes that came are not the bytes written";
}

// A write started before the handshake runs it (OpenSSL's SSL_write does), so it waits for
// the client's bytes, a read edge, from the write's own slot; a read started beside it waits
// for the same edge.
TEST(TlsSocket, AWriteBeforeTheHandshakeWaitsForTheClientsBytes) {
  TlsPair p;
  std::string early = "early";  // the write holds it
  char buffer[64];
  Outcome wrote, read;
  p.start_write_and_read(early, wrote, asio::buffer(buffer), read);
  EXPECT_FALSE(wrote.done()) << "a write went out before the handshake";

  Outcome client_handshake;
  p.client->async_handshake(ssl::stream_base::client, client_handshake.without_size());
  ASSERT_TRUE(run_tls_until(p.io, [&] { return client_handshake.done() && wrote.done(); }));
  ASSERT_FALSE(*client_handshake.ec) << client_handshake.ec->message();
  ASSERT_FALSE(*wrote.ec) << wrote.ec->message();
  char got[5];
  asio::read(*p.client, asio::buffer(got));
  EXPECT_EQ(std::string(got, sizeof got), "early");

  asio::write(*p.client, asio::buffer(std::string("late")));
  ASSERT_TRUE(run_tls_until(p.io, [&] { return read.done(); }));
  ASSERT_FALSE(*read.ec) << read.ec->message();
  EXPECT_EQ(std::string(buffer, read.n), "late");
}

TEST(TlsSocket, CloseNotifyEndsAReadWithEof) {
  TlsPair p;
  p.handshake();
  char buffer[64];
  Outcome read;
  p.server->async_read_some(asio::buffer(buffer), read.with_size());
  Outcome shut;
  p.client->async_shutdown(shut.without_size());  // waits for ours, which never comes
  ASSERT_TRUE(run_tls_until(p.io, [&] { return read.done(); }));
  EXPECT_EQ(*read.ec, asio::error::eof);
}

// A client that closes its TCP connection without close_notify: what asio::ssl::stream said.
TEST(TlsSocket, ABareFinEndsAReadWithStreamTruncated) {
  TlsPair p;
  p.handshake();
  char buffer[64];
  Outcome read;
  p.server->async_read_some(asio::buffer(buffer), read.with_size());
  p.io.poll();
  p.client->next_layer().shutdown(tcp::socket::shutdown_send);  // FIN; a close would reset
  ASSERT_TRUE(run_tls_until(p.io, [&] { return read.done(); }));
  EXPECT_EQ(*read.ec, ssl::error::stream_truncated) << read.ec->message();
}

TEST(TlsSocket, PlainHttpOnTheTlsPortFailsTheHandshakeWithOpenSslsReason) {
  TlsPair p;
  Outcome handshake;
  p.server->async_handshake(ssl::stream_base::server, handshake.without_size());
  asio::write(p.client->next_layer(), asio::buffer(std::string("GET / HTTP/1.1\r\n\r\n")));
  ASSERT_TRUE(run_tls_until(p.io, [&] { return handshake.done(); }));
  ASSERT_TRUE(*handshake.ec);
  EXPECT_EQ(handshake.ec->category(), asio::error::get_ssl_category());
  EXPECT_NE(handshake.ec->message().find("http"), std::string::npos) << handshake.ec->message();
}

// The session's close() (a timeout, a drain) while the handshake waits for the client.
TEST(TlsSocket, CloseMidHandshakeAbortsIt) {
  TlsPair p;
  Outcome handshake;
  p.server->async_handshake(ssl::stream_base::server, handshake.without_size());
  p.io.poll();
  EXPECT_FALSE(handshake.done());
  p.server->close();
  ASSERT_TRUE(run_tls_until(p.io, [&] { return handshake.done(); }));
  EXPECT_EQ(*handshake.ec, asio::error::operation_aborted);
}

}  // namespace
}  // namespace duet::router
