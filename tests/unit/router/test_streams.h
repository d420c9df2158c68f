#pragma once
// In-memory connections for ProxySession and UpstreamRelay under test: Beast's test::stream
// (whose fail_count fails the Nth read or write and every one after) behind what the session
// and the relay ask of a TimedSocket, on the client side and on the engine side, where
// engines are scripted.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/_experimental/test/fail_count.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "router/worker_context.h"

namespace duet::router::test {

namespace beast = boost::beast;

// The client's connection as the session sees it. test::stream cannot cancel a pending read,
// which the session does to end its watch on the client: reads go through a stash here, so
// a cancelled read ends at once and what the stream delivers later waits for the next read.
// Copies share one connection: the test keeps one to look at it.
class ClientConnection {
 public:
  using executor_type = beast::test::stream::executor_type;

  // `fail`, when given, fails the session's Nth read or write here and every one after.
  explicit ClientConnection(boost::asio::io_context& io, beast::test::fail_count* fail = nullptr);

  // The test's end: what it writes the session reads.
  void send(std::string_view bytes);
  // The client closes its end: the session reads the end of the stream, as `how` (a TLS
  // stream's end without close_notify is stream_truncated).
  void hang_up(beast::error_code how = boost::asio::error::eof) {
    state_->end_as = how;
    state_->client.close();
  }
  // What the session wrote so far.
  std::string received() const { return std::string(state_->client.str()); }
  bool closed() const { return state_->closed; }

  // What the session and the relay ask of a TimedSocket.
  executor_type get_executor() { return state_->server.get_executor(); }
  void expires_after(std::chrono::steady_clock::duration) {}
  void expires_never() {}
  void shutdown_send() {}
  void cancel();
  void close();

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    state_->target = *boost::asio::buffer_sequence_begin(buffers);
    state_->handler = std::forward<Handler>(handler);
    read(state_);
  }
  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    state_->server.async_write_some(buffers, std::forward<Handler>(handler));
  }

 private:
  struct State {
    State(boost::asio::io_context& io, beast::test::fail_count* fail);

    beast::test::stream server;  // the session's end
    beast::test::stream client;
    beast::flat_buffer stash;         // read from `server`, not yet handed to the session
    beast::error_code stashed_error;  // how `server`'s last read ended, not yet handed on
    std::function<void(beast::error_code, std::size_t)> handler;  // the session's read
    boost::asio::mutable_buffer target;
    beast::error_code end_as = boost::asio::error::eof;  // what the end of the stream reads as
    bool reading = false;  // a read on `server` is pending
    bool closed = false;
  };

  static void read(const std::shared_ptr<State>& state);
  static void deliver(const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;
};

// What one engine connection does, in the order the relay opens them.
struct EngineScript {
  bool refuse = false;        // the connect fails
  std::string response{};     // what the engine has sent when the relay first reads
  bool close_after = false;   // then the engine closes: the relay reads the end of the stream
  std::size_t fail_at = 0;    // from the relay's Nth read or write on, each fails (0: none)
  std::size_t read_size = 0;  // at most this much per read (0: what there is)
};

// The engines: scripts taken one per connection, and what each connection got.
class ScriptedEngines {
 public:
  struct Connected {
    Connected(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& to,
              std::size_t fail_at);

    boost::asio::ip::tcp::endpoint endpoint;
    beast::test::fail_count fail;
    beast::test::stream engine;  // the engine's end: str() is what the relay wrote
  };

  explicit ScriptedEngines(std::vector<EngineScript> scripts);
  ~ScriptedEngines();

  // Every connection the relay opened (refused ones too), in order.
  const std::vector<std::shared_ptr<Connected>>& connections() const { return connected_; }

  // Connects `stream` as the next script says; false when it refuses (or none is left).
  bool connect(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& to,
               beast::test::stream& stream, std::shared_ptr<Connected>& end);

  // The instance the relays under test use (one test at a time).
  static ScriptedEngines* current;

 private:
  std::deque<EngineScript> scripts_;
  std::vector<std::shared_ptr<Connected>> connected_;
};

// The relay's end of an engine connection: what UpstreamRelay asks of a TimedSocket.
class EngineStream {
 public:
  using executor_type = beast::test::stream::executor_type;

  explicit EngineStream(boost::asio::io_context& io) : io_(io), stream_(io) {}
  EngineStream(const EngineStream&) = delete;
  EngineStream& operator=(const EngineStream&) = delete;

  executor_type get_executor() { return stream_.get_executor(); }
  void expires_after(std::chrono::steady_clock::duration) {}
  bool expired() const { return false; }
  void prepare() {}
  void close() { stream_.close(); }
  std::size_t write_now(boost::asio::const_buffer data, beast::error_code& ec) {
    return stream_.write_some(data, ec);
  }

  template <class Handler>
  void async_connect(const boost::asio::ip::tcp::endpoint& to, Handler&& handler) {
    bool connected = ScriptedEngines::current->connect(io_, to, stream_, end_);
    beast::error_code ec;
    if (!connected) ec = boost::asio::error::connection_refused;
    boost::asio::post(stream_.get_executor(),
                      [handler = std::forward<Handler>(handler), ec]() mutable { handler(ec); });
  }
  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    stream_.async_read_some(buffers, std::forward<Handler>(handler));
  }
  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    stream_.async_write_some(buffers, std::forward<Handler>(handler));
  }

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<ScriptedEngines::Connected> end_;  // holds the fail_count stream_ uses
  beast::test::stream stream_;
};

struct EngineConnection {
  explicit EngineConnection(boost::asio::io_context& io) : stream(io) {}

  EngineStream stream;
  beast::flat_buffer buffer;
  boost::asio::ip::tcp::endpoint peer;
  bool reused = false;
};

// UpstreamRelay's Upstreams: every request opens a new scripted connection, none is kept.
struct ScriptedUpstreams {
  using Connection = EngineConnection;

  static std::unique_ptr<Connection> take(WorkerContext&, const boost::asio::ip::tcp::endpoint&) {
    return nullptr;
  }
  static void put(WorkerContext&, std::unique_ptr<Connection>) {}
  static std::unique_ptr<Connection> open(WorkerContext& worker) {
    return std::make_unique<Connection>(worker.io);
  }
};

}  // namespace duet::router::test
