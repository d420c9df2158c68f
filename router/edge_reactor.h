#pragma once
// Readiness of a worker's client and engine sockets, kept as nginx keeps it: one epoll set
// per worker, edge-triggered, and per socket a flag for "a read may find bytes" and one for
// "a write may go out". A flag is cleared only by a read or write that found nothing (or
// less than it asked for) and set again by the next edge, so an operation started on a
// socket whose flag is down waits without a syscall.
//
// Asio's reactor cannot wait that way: each read it starts tries recv first (a failed one
// whenever the bytes are not there yet, as after every request sent to an engine), and each
// async_wait re-arms the socket with an epoll_ctl. That was two of duet-router's six
// syscalls a request against nginx's five and HAProxy's four (bench/README.md), at about
// 0.5-0.7 us a syscall on the bench machine.
//
// The set sits in the worker's io_context as one descriptor: while any operation waits, an
// async_wait on it is posted. When it fires, the reactor takes the events that are ready,
// tells each socket and runs the handlers, again while events keep coming, for at most a
// slice (kSlice); then, or as soon as nothing is ready, it goes back to the io_context, which
// sleeps in its own epoll_wait. It never sleeps on its own set: that wait would need a
// timeout, so that the io_context's timers, accepts and other threads' posts get their turn,
// and arming and cancelling that short timer at every sleep cost more than what a sleep
// through the io_context adds (its epoll_wait and the re-arm's epoll_ctl): with the proxy
// saturated, 1.3 us more kernel time a request in a VM, where programming the timer traps
// to the hypervisor (bench/README.md). Worker thread only.

#include <sys/epoll.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cstdint>
#include <vector>

namespace duet::router {

class TimedSocket;

// An operation that waits for its socket's edge: a read, a wait for bytes, a write, a
// connect or a TLS handshake, with its handler behind a function pointer (so that a socket
// holds two pointers, not a type per handler). Blocks come from a per-thread list
// (recycling_allocator.h).
struct EdgeOp {
  enum class Kind : uint8_t { read, wait_readable, write, connect, handshake };
  // Which edge it waits for: its own kind's, except under TLS, where a read may have to
  // write (a handshake message) and a write may have to read.
  enum class Edge : uint8_t { read, write };
  // How a finished operation's handler runs: inline (from the reactor's wake-up, as Asio
  // runs a completed handler), posted (it finished as it started: never inside the call that
  // started it), or not at all (the worker is going away).
  enum class Run : uint8_t { dispatch, post, destroy };
  using Finish = void (*)(EdgeOp*, const boost::system::error_code&, std::size_t, Run);

  Finish finish;
  Kind kind;
  Edge waits_for = Edge::read;
  void* data = nullptr;  // a read's or a write's bytes
  std::size_t size = 0;
  // How it ended, while it waits in EdgeReactor's list of finished operations.
  boost::system::error_code result;
  std::size_t transferred = 0;
  EdgeOp* next = nullptr;
};

class EdgeReactor {
 public:
  // Which socket an event is for: its slot, and the slot's generation (an event taken before
  // the socket closed must not reach the socket that took the slot next).
  using Key = uint64_t;
  static constexpr Key kNoKey = ~Key{0};

  explicit EdgeReactor(boost::asio::io_context& io);
  EdgeReactor(const EdgeReactor&) = delete;
  EdgeReactor& operator=(const EdgeReactor&) = delete;
  ~EdgeReactor();

  // Watches an open descriptor until remove(); its events go to `socket`. kNoKey and `ec`
  // if epoll refuses it.
  Key add(int fd, TimedSocket* socket, boost::system::error_code& ec);
  // The socket object moved: its events go to `socket` from now on.
  void moved(Key key, TimedSocket* socket);
  // Before its descriptor closes (closing it drops the epoll watch).
  void remove(Key key);

  // An operation waits for an edge: events are taken while any does.
  void wait_started();
  void wait_ended();
  // `op` ended as it started (or was cancelled): its handler runs after the call that
  // started it returned, from the reactor's list while it runs, else through the io_context.
  void finished(EdgeOp* op, const boost::system::error_code& ec, std::size_t n);

  // How many events one epoll_wait takes.
  static constexpr int kBatch = 128;
  // How long one wake-up keeps taking events while they keep coming before the io_context's
  // other handlers get their turn: its timers, accepts and what other threads post wait at
  // most this long.
  static constexpr std::chrono::milliseconds kSlice{1};

 private:
  struct Slot {
    TimedSocket* socket = nullptr;
    uint32_t generation = 0;
  };
  TimedSocket* find(Key key) const;
  void arm();
  void on_ready(const boost::system::error_code& ec);
  void dispatch(const epoll_event* events, int n);
  // Runs (dispatch) or posts the handlers of the operations in finished_, and of those
  // that finish meanwhile.
  void run_finished(EdgeOp::Run how);

  boost::asio::posix::stream_descriptor set_;  // the epoll descriptor, in the io_context
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  EdgeOp* finished_ = nullptr;  // operations that ended during on_ready, oldest first
  EdgeOp* finished_last_ = nullptr;
  std::size_t waiting_ = 0;   // operations waiting for an edge
  bool armed_ = false;        // an async_wait on set_ is posted
  bool dispatching_ = false;  // inside on_ready: it arms once at its end
};

}  // namespace duet::router
