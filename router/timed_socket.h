#pragma once
// A TCP socket with one time limit for its current step (read a header, wait for the first
// byte, write a chunk), as beast::tcp_stream has, but cheap to set: the proxy sets a limit
// several times per request and almost never reaches one. Setting it stores a time; one
// timer per worker ticks every 100 ms and closes the sockets whose limit passed (the
// pending operation then ends with operation_aborted; expired() says why).
// tcp_stream instead re-arms a timer per operation and wraps every handler in a
// type-erased executor, which in the profile cost more than the proxy's own work.
//
// A tick must not walk every socket: with 10,000 connections (12,000 sockets) that walk
// took 0.3-0.4 ms with caches cold, up to 2 ms, every 100 ms, and every stream's chunk that
// came meanwhile waited for it (issue 21's chunk p99). Sockets are filed in a timing wheel
// by the tick their limit falls in, and a tick visits only its own slot. A limit moved later
// (the usual case: each step sets a new one) leaves the socket where it is, and the visit
// files it again; only a limit moved earlier files it at once.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <chrono>
#include <cstdint>

namespace duet::router {

class TimedSocket;

// The sockets of one worker and the timer that enforces their limits. Worker thread only.
class Deadlines {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kResolution{100};
  // Slots of the wheel, one tick each (102 s round): a limit further out is filed in its
  // slot modulo the round and filed again when the slot comes round before it.
  static constexpr int64_t kSlots = 1024;
  static constexpr int64_t kUnfiled = INT64_MAX;

  explicit Deadlines(boost::asio::io_context& io);
  Deadlines(const Deadlines&) = delete;
  Deadlines& operator=(const Deadlines&) = delete;

 private:
  friend class TimedSocket;
  void add(TimedSocket* socket);
  void remove(TimedSocket* socket);
  // The first tick at or after `deadline`: a socket filed there has passed its limit then.
  static int64_t tick_at_or_after(Clock::time_point deadline) {
    if (deadline == Clock::time_point::max()) return kUnfiled;
    constexpr int64_t kTick = std::chrono::nanoseconds(kResolution).count();
    auto ns = std::chrono::nanoseconds(deadline.time_since_epoch()).count();  // since boot: > 0
    return ns / kTick + (ns % kTick != 0);
  }
  // Links `socket` into the slot of its limit (none for a socket without one).
  void file(TimedSocket* socket);
  void unfile(TimedSocket* socket);
  void tick();
  void sweep();

  boost::asio::steady_timer timer_;
  std::array<TimedSocket*, kSlots> slots_{};  // each a list through TimedSocket::next_
  int64_t swept_;          // every tick up to this one has been visited
  std::size_t sockets_ = 0;
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
  void expires_after(Clock::duration limit) {
    deadline_ = Clock::now() + limit;
    if (Deadlines::tick_at_or_after(deadline_) < filed_tick_) deadlines_->file(this);
  }
  // Unfiled lazily: its slot's visit finds no limit and lets it go.
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
  // Where the wheel holds it: the tick of its slot, and its neighbours in the slot's list.
  int64_t filed_tick_ = Deadlines::kUnfiled;
  TimedSocket* prev_ = nullptr;
  TimedSocket* next_ = nullptr;
};

}  // namespace duet::router
