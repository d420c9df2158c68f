#include "router/worker.h"

#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <system_error>

#include "duet/common/address.h"
#include "router/proxy_session.h"
#include "router/router_logger.h"
#include "router/wire_format.h"

namespace duet::router {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

constexpr std::chrono::milliseconds kDrainPoll{20};

// Over limits.maxConnections. A plain client is told so in one non-blocking write, whether
// or not its request came yet; a TLS client would first need a handshake, the work the limit
// is there to spare, so it only sees the connection close.
void refuse_connection(TimedSocket::Socket& socket) {
  static const std::string reply = serialize(overloaded_response(
      "the router is at its connection limit (limits.maxConnections); retry later", 11, false));
  [[maybe_unused]] auto sent =
      ::send(socket.native_handle(), reply.data(), reply.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

Worker::Worker(unsigned index, const WorkerShared& shared)
    : context_(io_, index, shared), drain_timer_(io_) {
  context_.table = std::make_shared<RoutingTable>();
}

Worker::~Worker() {
  if (thread_.joinable()) {
    drain(std::chrono::milliseconds(0));
    thread_.join();
  }
}

uint16_t Worker::listen(const tcp::endpoint& endpoint, std::size_t listener) {
  auto acceptor = std::make_unique<tcp::acceptor>(io_);
  try {
    acceptor->open(endpoint.protocol());
    acceptor->set_option(asio::socket_base::reuse_address(true));
    acceptor->set_option(reuse_port(true));
    acceptor->bind(endpoint);
    acceptor->listen(asio::socket_base::max_listen_connections);
  } catch (const boost::system::system_error& e) {
    throw std::system_error(e.code(), "listen on " + host_port(endpoint));
  }
  return add_acceptor(std::move(acceptor), listener);
}

uint16_t Worker::adopt(int fd, std::size_t listener) {
  int family = inherited_socket_family(fd);
  auto acceptor = std::make_unique<tcp::acceptor>(io_);
  acceptor->assign(family == AF_INET6 ? tcp::v6() : tcp::v4(), fd);
  return add_acceptor(std::move(acceptor), listener);
}

uint16_t Worker::add_acceptor(std::unique_ptr<tcp::acceptor> acceptor, std::size_t listener) {
  uint16_t port = acceptor->local_endpoint().port();
  acceptors_.push_back(std::move(acceptor));
  accept_backoff_.emplace_back();
  listener_of_.push_back(listener);
  return port;
}

std::vector<std::pair<std::size_t, int>> Worker::listening_sockets() const {
  std::vector<std::pair<std::size_t, int>> sockets;
  for (std::size_t i = 0; i < acceptors_.size(); ++i)
    sockets.emplace_back(listener_of_[i], acceptors_[i]->native_handle());
  return sockets;
}

void Worker::start(bool accepting) {
  if (accepting)
    for (std::size_t i = 0; i < acceptors_.size(); ++i) do_accept(i);
  else
    waiting_.emplace(io_.get_executor());
  thread_ = std::thread([this] {
    // Handlers do not throw (errors are error_codes and local replies); if one does anyway
    // (allocation failure, a bug), say so and keep serving the other connections.
    for (;;) {
      try {
        io_.run();
        finished_ = true;
        return;
      } catch (const std::exception& e) {
        router_logger().error("worker_exception",
                              {{"worker", context_.index}, {"error", e.what()}});
      }
    }
  });
}

void Worker::start_accepting() {
  asio::post(io_, [this] {
    waiting_.reset();
    if (context_.draining) return;
    for (std::size_t i = 0; i < acceptors_.size(); ++i) do_accept(i);
  });
}

void Worker::publish(std::shared_ptr<const RoutingTable> table) {
  asio::post(io_,
             [this, table = std::move(table)]() mutable { context_.table = std::move(table); });
}

void Worker::publish_credentials(std::shared_ptr<const Credentials> credentials) {
  asio::post(io_, [this, credentials = std::move(credentials)]() mutable {
    context_.credentials = std::move(credentials);
    context_.tokens.clear();  // tokens of a key that is gone must not pass from the cache
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::do_accept(std::size_t listener) {
  // Sockets on this io_context's own executor type: no type-erased executor per operation.
  acceptors_[listener]->async_accept(
      io_, [this, listener](beast::error_code ec, TimedSocket::Socket socket) {
        on_accept(listener, ec, std::move(socket));
      });
}

void Worker::on_accept(std::size_t listener, beast::error_code ec, TimedSocket::Socket socket) {
  if (ec == asio::error::operation_aborted || context_.draining) return;
  auto& backoff = accept_backoff_[listener];
  if (ec) {
    auto wait = backoff.failed();
    if (backoff.first_failure())
      router_logger().warn("accept_failed", {{"worker", context_.index},
                                             {"error", ec.message()},
                                             {"retry_ms", wait.count()}});
    auto timer = std::make_shared<asio::steady_timer>(io_, wait);
    timer->async_wait([this, listener, timer](beast::error_code) {
      if (!context_.draining) do_accept(listener);
    });
    return;
  }
  if (auto failures = backoff.succeeded())
    router_logger().info("accept_recovered", {{"worker", context_.index}, {"failures", failures}});
  start_session(listener_of_[listener], std::move(socket));
  do_accept(listener);
}

void Worker::start_session(std::size_t listener, TimedSocket::Socket socket) {
  const auto& tls = context_.credentials->tls;
  bool secure = listener < tls.size() && tls[listener];
  if (context_.open_connections.load(std::memory_order_relaxed) >=
      context_.limits.max_connections) {
    router_logger().warn("connection_refused", {{"reason", "maxConnections"},
                                                {"limit", context_.limits.max_connections}});
    if (!secure) refuse_connection(socket);
    return;  // the socket closes as it goes out of scope
  }
  beast::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  const auto& trusted = context_.trusted_proxies;
  Peer who{peer.address().to_string(), host_port(peer),
           !trusted.empty() && trusted.contains(peer.address())};
  if (secure) {
    // The session holds the context: a reload does not pull it from under the connection.
    std::make_shared<ProxySession<TlsStream>>(
        TlsStream(TimedSocket(std::move(socket), context_.deadlines, context_.reactor),
                  *tls[listener]),
        context_,
        std::move(who), tls[listener])
        ->start();
    return;
  }
  std::make_shared<ProxySession<PlainStream>>(
      PlainStream(std::move(socket), context_.deadlines, context_.reactor), context_,
      std::move(who))
      ->start();
}

void Worker::drain(std::chrono::milliseconds grace) {
  asio::post(io_, [this, grace] {
    if (context_.draining) return;
    context_.draining = true;
    waiting_.reset();
    for (auto& acceptor : acceptors_) {
      beast::error_code ignored;
      acceptor->close(ignored);
    }
    std::vector<DownstreamConnection*> open(context_.connections.begin(),
                                            context_.connections.end());
    for (auto* connection : open) connection->drain();
    drain_deadline_ = std::chrono::steady_clock::now() + grace;
    wait_drained();
  });
}

void Worker::wait_drained() {
  context_.upstreams.clear();
  if (context_.connections.empty()) return;  // nothing holds io_.run() any more
  if (std::chrono::steady_clock::now() >= drain_deadline_) {
    std::vector<DownstreamConnection*> open(context_.connections.begin(),
                                            context_.connections.end());
    for (auto* connection : open) connection->close();
    return;
  }
  drain_timer_.expires_after(kDrainPoll);
  drain_timer_.async_wait([this](beast::error_code ec) {
    if (!ec) wait_drained();
  });
}

}  // namespace duet::router
