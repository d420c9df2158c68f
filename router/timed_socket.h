#pragma once
// A TCP socket with one time limit for its current step (read a header, wait for the first
// byte, write a chunk), as beast::tcp_stream has, but cheap to set: the proxy sets a limit
// several times per request and almost never reaches one. Setting it stores a time; one
// timer per worker walks the worker's sockets every 100 ms and closes those whose limit
// passed (the pending operation then ends with operation_aborted; expired() says why).
// tcp_stream instead re-arms a timer per operation and wraps every handler in a
// type-erased executor, which in the profile cost more than the proxy's own work.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <unordered_set>

namespace duet::router {

class TimedSocket;

// The sockets of one worker and the timer that enforces their limits. Worker thread only.
class Deadlines {
 public:
  static constexpr std::chrono::milliseconds kResolution{100};

  explicit Deadlines(boost::asio::io_context& io) : timer_(io) {}
  Deadlines(const Deadlines&) = delete;
  Deadlines& operator=(const Deadlines&) = delete;

 private:
  friend class TimedSocket;
  void add(TimedSocket* socket);
  void remove(TimedSocket* socket) { sockets_.erase(socket); }
  void tick();
  void sweep();

  boost::asio::steady_timer timer_;
  std::unordered_set<TimedSocket*> sockets_;
  bool ticking_ = false;  // the timer runs only while there are sockets (a drained worker ends)
};

class TimedSocket {
 public:
  using Socket =
      boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;
  using executor_type = Socket::executor_type;
  using lowest_layer_type = TimedSocket;  // what asio::ssl::stream asks of its next layer
  using Clock = std::chrono::steady_clock;
  // What one read asks for: a response header with a small body, or a stream's chunk.
  static constexpr std::size_t kReadSize = 16 * 1024;

  TimedSocket(Socket socket, Deadlines& deadlines);
  TimedSocket(TimedSocket&& other) noexcept;
  TimedSocket& operator=(TimedSocket&&) = delete;
  ~TimedSocket();

  // The current step must end within `limit`; replaces the limit set before.
  void expires_after(Clock::duration limit) { deadline_ = Clock::now() + limit; }
  void expires_never() { deadline_ = Clock::time_point::max(); }
  // A limit passed and the socket was closed for it.
  bool expired() const { return expired_; }

  // After connect (an accepted socket gets it at once): no Nagle delay, so that a stream's
  // chunks leave as they come, and the non-blocking mode that write_now needs.
  void prepare();
  // Writes what the socket takes right now (possibly nothing) and returns how much; `ec`
  // is set only for a real error, not for a full send buffer.
  std::size_t write_now(boost::asio::const_buffer data, boost::system::error_code& ec);

  Socket& socket() { return socket_; }
  TimedSocket& lowest_layer() { return *this; }
  executor_type get_executor() { return socket_.get_executor(); }
  // Ends pending operations with operation_aborted; the socket stays open.
  void cancel();
  // Sends the end of the stream (FIN); reads go on until the peer ends its side.
  void shutdown_send();
  void close();

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return socket_.async_read_some(buffers, std::forward<Handler>(handler));
  }
  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return socket_.async_write_some(buffers, std::forward<Handler>(handler));
  }
  template <class Handler>
  auto async_connect(const boost::asio::ip::tcp::endpoint& to, Handler&& handler) {
    return socket_.async_connect(to, std::forward<Handler>(handler));
  }

 private:
  friend class Deadlines;
  void expire();

  Socket socket_;
  Deadlines* deadlines_;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool expired_ = false;
};

}  // namespace duet::router
