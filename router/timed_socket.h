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
//
// Its reads, writes and connect wait through the worker's EdgeReactor (edge_reactor.h), not
// through Asio's reactor, and it offers what Asio's stream operations ask of a socket. A
// TlsSocket (tls_socket.h) is one whose reads and writes go through OpenSSL.

#include <array>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <chrono>
#include <cstdint>
#include <memory>

#include "router/edge_reactor.h"
#include "router/event_clock.h"
#include "router/recycling_allocator.h"

struct ssl_st;
struct ssl_ctx_st;

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
  int64_t swept_;                             // every tick up to this one has been visited
  std::size_t sockets_ = 0;
  bool ticking_ = false;  // the timer runs only while there are sockets (a drained worker ends)
};

class TimedSocket {
 public:
  using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp,
                                                  boost::asio::io_context::executor_type>;
  using executor_type = boost::asio::io_context::executor_type;
  using Clock = std::chrono::steady_clock;
  // What one read asks for: a response header with a small body, or a stream's chunk.
  static constexpr std::size_t kReadSize = 16 * 1024;

  // An accepted connection: its descriptor leaves Asio's reactor for the worker's `reactor`.
  TimedSocket(Socket accepted, Deadlines& deadlines, EdgeReactor& reactor);
  // Not open yet: async_connect opens it.
  TimedSocket(executor_type executor, Deadlines& deadlines, EdgeReactor& reactor);
  // Only while no operation is pending (a connection is moved before it is used).
  TimedSocket(TimedSocket&& other) noexcept;
  TimedSocket& operator=(TimedSocket&&) = delete;
  ~TimedSocket();

  // The current step must end within `limit`; replaces the limit set before.
  void expires_after(Clock::duration limit) {
    deadline_ = EventClock::now() + limit;
    if (Deadlines::tick_at_or_after(deadline_) < filed_tick_) deadlines_->file(this);
  }
  // Unfiled lazily: its slot's visit finds no limit and lets it go.
  void expires_never() { deadline_ = Clock::time_point::max(); }
  // A limit passed and the socket was closed for it.
  bool expired() const { return expired_; }

  // After connect (an accepted socket gets it at once): no Nagle delay, so that a stream's
  // chunks leave as they come.
  void prepare();
  // Writes what the socket takes right now (possibly nothing) and returns how much; `ec`
  // is set only for a real error, not for a full send buffer.
  std::size_t write_now(boost::asio::const_buffer data, boost::system::error_code& ec);
  // Reads what is there right now; would_block when nothing is (after async_wait_readable).
  std::size_t read_now(boost::asio::mutable_buffer data, boost::system::error_code& ec);

  bool is_open() const { return fd_ >= 0; }
  int native_handle() const { return fd_; }
  executor_type get_executor() { return executor_; }
  // Ends pending operations with operation_aborted; the socket stays open.
  void cancel();
  // Sends the end of the stream (FIN); reads go on until the peer ends its side.
  void shutdown_send();
  void close();

  // Asio's stream operations (AsyncReadStream, AsyncWriteStream), one of each at a time.
  // Each reads or writes the first non-empty buffer of the sequence (under TLS: its bytes,
  // in records).
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    auto buffer = first_buffer<boost::asio::mutable_buffer>(buffers);
    return start<void(boost::system::error_code, std::size_t)>(
        EdgeOp::Kind::read, buffer.data(), buffer.size(), std::forward<Token>(token));
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    auto buffer = first_buffer<boost::asio::const_buffer>(buffers);
    return start<void(boost::system::error_code, std::size_t)>(
        EdgeOp::Kind::write, const_cast<void*>(buffer.data()),  // a write only reads it
        buffer.size(), std::forward<Token>(token));
  }
  // Completes when a read would find bytes, the end of the stream or an error: a connection
  // idle between requests waits without a buffer, then read_now().
  template <class Token>
  auto async_wait_readable(Token&& token) {
    return start<void(boost::system::error_code)>(EdgeOp::Kind::wait_readable, nullptr, 0,
                                                  std::forward<Token>(token));
  }
  // Opens the socket and connects it to `to`.
  template <class Token>
  auto async_connect(const boost::asio::ip::tcp::endpoint& to, Token&& token) {
    peer_ = to;
    return start<void(boost::system::error_code)>(EdgeOp::Kind::connect, nullptr, 0,
                                                  std::forward<Token>(token));
  }

 protected:
  template <class Signature, class Token>
  auto start(EdgeOp::Kind kind, void* data, std::size_t size, Token&& token) {
    return boost::asio::async_initiate<Token, Signature>(
        [this, kind, data, size](auto handler) {
          constexpr bool kWithSize =
              std::is_same_v<Signature, void(boost::system::error_code, std::size_t)>;
          using Op = HandlerOp<std::decay_t<decltype(handler)>, kWithSize>;
          Op* op = typename Op::Allocator().allocate(1);
          begin(new (op) Op(std::move(handler), executor_, kind, data, size));
        },
        token);
  }
  // From here on, reads, writes and the handshake go through OpenSSL with a server-side
  // connection of `context` (tls_socket.cc); if OpenSSL cannot make one, the socket closes.
  void start_tls(ssl_ctx_st* context);

 private:
  friend class Deadlines;
  friend class EdgeReactor;
  friend struct TlsTransport;

  // WithSize: the handler takes (error_code, bytes), else (error_code).
  template <class Handler, bool WithSize>
  struct HandlerOp;

  // The first non-empty buffer of a sequence (an empty one if none is).
  template <class Buffer, class Buffers>
  static Buffer first_buffer(const Buffers& buffers) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it)
      if (Buffer buffer(*it); buffer.size() != 0) return buffer;
    return Buffer();
  }

  // Runs `op` at once if its socket's flag says it may find its bytes or its room (its
  // handler then runs after this call, EdgeReactor::finished), or leaves it waiting for the
  // next edge.
  void begin(EdgeOp* op);
  // From EdgeReactor: an edge for reading (and whether the peer ended its side), or writing.
  void on_read_edge(uint32_t events);
  void on_write_edge();
  // The operations that wait for `edge` tried again: the one in the other slot (a TLS read
  // that must write, or a write that must read) finishes through the reactor's list, the
  // one in the edge's own slot at once (its handler may free this socket: last).
  void retry_waiting_for(EdgeOp::Edge edge);
  // The operation in `slot`, if it waits for `edge`, tried again; `how` its handler runs if
  // it ends.
  void retry(EdgeOp*& slot, EdgeOp::Edge edge, EdgeOp::Run how);
  // One attempt at the operation; false if it must wait for the edge in op->waits_for.
  bool attempt(EdgeOp* op, boost::system::error_code& ec, std::size_t& n);
  bool attempt_tls(EdgeOp* op, boost::system::error_code& ec, std::size_t& n);  // tls_socket.cc
  bool finish_connect(boost::system::error_code& ec);
  static bool reads(EdgeOp::Kind kind) {
    return kind == EdgeOp::Kind::read || kind == EdgeOp::Kind::wait_readable ||
           kind == EdgeOp::Kind::handshake;
  }
  EdgeOp*& slot_for(EdgeOp::Kind kind) { return reads(kind) ? reading_ : writing_; }
  void abort_pending(bool dropped);
  // tls_socket.cc: the OpenSSL connection follows a moved socket, and goes with it.
  void tls_moved();
  void end_tls();
  void adopt(int fd);
  void expire();

  executor_type executor_;
  Deadlines* deadlines_;
  EdgeReactor* reactor_;
  int fd_ = -1;
  EdgeReactor::Key key_ = EdgeReactor::kNoKey;
  EdgeOp* reading_ = nullptr;  // waiting for a read edge
  EdgeOp* writing_ = nullptr;  // waiting for a write edge (a write, or the connect)
  bool may_read_ = true;       // no read has found nothing since the last read edge
  bool may_write_ = true;      // no write has found the buffer full since the last write edge
  bool peer_ended_ = false;    // the peer's FIN or an error came: reads never block again
  ssl_st* tls_ = nullptr;      // a TlsSocket's OpenSSL connection
  boost::system::error_code tls_io_error_;  // why OpenSSL's last read or write of the socket failed
  boost::asio::ip::tcp::endpoint peer_;  // what async_connect connects to
  Clock::time_point deadline_ = Clock::time_point::max();
  bool expired_ = false;
  // Where the wheel holds it: the tick of its slot, and its neighbours in the slot's list.
  int64_t filed_tick_ = Deadlines::kUnfiled;
  TimedSocket* prev_ = nullptr;
  TimedSocket* next_ = nullptr;
};

template <class Handler, bool WithSize>
struct TimedSocket::HandlerOp final : EdgeOp {
  using Allocator = RecyclingAllocator<HandlerOp>;

  HandlerOp(Handler&& h, executor_type io, Kind k, void* bytes, std::size_t length)
      : handler(std::move(h)), io_executor(io) {
    finish = &do_finish;
    kind = k;
    waits_for = reads(k) ? Edge::read : Edge::write;
    data = bytes;
    size = length;
  }

  static void do_finish(EdgeOp* base, const boost::system::error_code& ec, std::size_t n, Run how) {
    auto* self = static_cast<HandlerOp*>(base);
    Handler h(std::move(self->handler));
    executor_type io = self->io_executor;
    self->~HandlerOp();
    Allocator().deallocate(self, 1);  // before the handler runs: it may start the next one
    if (how == Run::destroy) return;
    auto executor = boost::asio::get_associated_executor(h, io);
    auto run = [&](auto bound) {
      if (how == Run::post)
        boost::asio::post(executor, std::move(bound));
      else
        boost::asio::dispatch(executor, std::move(bound));
    };
    if constexpr (WithSize)
      run(boost::beast::bind_handler(std::move(h), ec, n));
    else
      run(boost::beast::bind_handler(std::move(h), ec));
  }

  Handler handler;
  executor_type io_executor;
};

}  // namespace duet::router
