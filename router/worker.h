#pragma once
// A worker thread of the proxy: its own io_context, its own listening socket on each proxy
// port (SO_REUSEPORT: the kernel spreads connections over the workers), its own copy of
// the routing table and its own upstream pool. Nothing on the request path is shared with
// other workers except the per-endpoint in-flight counters.

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "duet/common/accept_backoff.h"
#include "router/worker_context.h"

namespace duet::router {

class Worker {
 public:
  Worker(unsigned index, const WorkerShared& shared);
  // Drains with no grace if still running, then joins.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Opens a listening socket with SO_REUSEPORT and returns the port it got (for port 0).
  // `listener` is the index in config.listen (which TLS context it uses). Calling thread,
  // before start(). Throws std::system_error naming the address.
  uint16_t listen(const boost::asio::ip::tcp::endpoint& endpoint, std::size_t listener);
  // Accepts on a listening socket a predecessor handed over (handover.h); returns its port.
  // Calling thread, before start().
  uint16_t adopt(int fd, std::size_t listener);
  // Each listening socket's listener index and descriptor: what a successor inherits.
  std::vector<std::pair<std::size_t, int>> listening_sockets() const;
  // Whether its thread has run out of work (after drain()).
  bool finished() const { return finished_; }
  // Runs the io_context on a thread of its own, accepting at once unless `accepting` is false
  // (a reload's successor accepts once its routing table is ready).
  void start(bool accepting = true);
  // Any thread: starts accepting after start(false).
  void start_accepting();

  // Any thread: the worker uses `table` for requests that start after it arrives.
  void publish(std::shared_ptr<const RoutingTable> table);
  // Any thread: new connections use these TLS contexts and requests this JWT verifier;
  // connections already open keep the context they were made with.
  void publish_credentials(std::shared_ptr<const Credentials> credentials);
  // Any thread: stop accepting, close idle connections, let responses in progress finish,
  // and close what is left after `grace`. The thread ends when nothing is left.
  void drain(std::chrono::milliseconds grace);
  void join();

 private:
  void do_accept(std::size_t listener);
  void on_accept(std::size_t listener, boost::beast::error_code ec, TimedSocket::Socket socket);
  void start_session(std::size_t listener, TimedSocket::Socket socket);
  void wait_drained();
  uint16_t add_acceptor(std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor, std::size_t listener);

  // One thread runs it, and every socket's operations start on that thread (acceptors are
  // opened and first armed before it starts): no lock around each socket's reactor state.
  // post() from other threads (publish, drain) still takes the scheduler's lock.
  boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  WorkerContext context_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::vector<std::size_t> listener_of_;  // acceptor → index in config.listen
  std::vector<AcceptBackoff> accept_backoff_;  // per acceptor
  boost::asio::steady_timer drain_timer_;
  // Keeps the thread's loop running while it waits to accept (start(false)).
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> waiting_;
  std::chrono::steady_clock::time_point drain_deadline_;
  std::thread thread_;
  std::atomic<bool> finished_ = false;
};

}  // namespace duet::router
