#include "duet/common/http_server.h"

#include <netinet/in.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <mutex>
#include <sstream>
#include <unordered_set>

#include "duet/common/http_error.h"
#include "duet/common/log.h"
#include "duet/common/openai_error.h"

namespace duet::http {

using Socket = asio::generic::stream_protocol::socket;
using Acceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;
namespace beast = boost::beast;

namespace {
const Logger& logger() {
  static const Logger log("http");
  return log;
}
constexpr std::size_t kWatchBufferLimit = 64 * 1024;
}  // namespace

struct Server::State {
  Handler handler;
  ServerOptions options;
  std::vector<std::unique_ptr<Acceptor>> acceptors;
  std::vector<std::string> unix_paths;
  std::mutex mutex;  // sessions run on several threads when the io_context does
  std::unordered_set<ServerSession*> sessions;
  bool stopped = false;
};

// One connection: reads requests one at a time, hands each to the handler as an Exchange,
// writes what the Exchange queues, and watches the socket while a response is in progress
// so that a client that goes away is noticed.
class ServerSession : public std::enable_shared_from_this<ServerSession> {
 public:
  ServerSession(Socket socket, std::shared_ptr<Server::State> state, std::string remote)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        state_(std::move(state)),
        remote_(std::move(remote)) {}

  ~ServerSession() {
    std::lock_guard lock(state_->mutex);
    state_->sessions.erase(this);
  }

  void start() {
    {
      std::lock_guard lock(state_->mutex);
      if (state_->stopped) return;
      state_->sessions.insert(this);
    }
    asio::dispatch(socket_.get_executor(),
                   [self = shared_from_this()] { self->do_read_request(); });
  }

  // Called from Server::stop() on any thread.
  void close_from_outside() {
    asio::post(socket_.get_executor(), [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->close();
    });
  }

  asio::any_io_executor executor() { return socket_.get_executor(); }
  const std::string& remote() const { return remote_; }
  bool gone() const { return gone_; }
  std::size_t queued_bytes() const { return queued_bytes_; }
  const ServerOptions& options() const { return state_->options; }

  void on_gone(std::function<void()> cb) {
    if (gone_) return cb();
    gone_callbacks_.push_back(std::move(cb));
  }

  void write_response(std::shared_ptr<Response> response, bool close_after) {
    close_after_ = close_after;
    response_complete_ = true;
    enqueue({std::move(response), {}});
  }

  void write_raw(std::string bytes, bool last, bool close_after) {
    if (last) {
      close_after_ = close_after;
      response_complete_ = true;
    }
    enqueue({nullptr, std::move(bytes)});
  }

  // An Exchange was dropped without an answer: the handler has a bug; the client must not hang.
  void abandon() {
    logger().error("handler_dropped_request", {{"remote", remote_}});
    close();
  }

 private:
  struct Outgoing {
    std::shared_ptr<Response> full;
    std::string raw;
  };

  void do_read_request() {
    parser_.emplace();
    parser_->body_limit(state_->options.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(state_->options.header_limit));
    response_complete_ = false;
    arm_timer(state_->options.header_timeout);
    bhttp::async_read(socket_, buffer_, *parser_,
                      beast::bind_front_handler(&ServerSession::on_read_request,
                                                shared_from_this()));
  }

  void on_read_request(beast::error_code ec, std::size_t) {
    timer_.cancel();
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset)
      return close();
    if (ec) return reject(ec);
    auto exchange = std::make_shared<Exchange>(shared_from_this(), parser_->release());
    start_watch();
    dispatch(std::move(exchange));
  }

  void dispatch(std::shared_ptr<Exchange> exchange) {
    try {
      state_->handler(exchange);
    } catch (const HttpError& e) {
      exchange->reply_error(e.status(), e.what(), e.param());
    } catch (const std::exception& e) {
      logger().error("handler_failed", {{"remote", remote_}, {"error", e.what()}});
      exchange->reply_error(500, e.what());
    }
  }

  // Turns a parse failure into the status a client can act on, then closes.
  void reject(beast::error_code ec) {
    int status = 400;
    std::string message = "malformed HTTP request: " + ec.message();
    if (ec == bhttp::error::body_limit) {
      status = 413;
      message = "request body exceeds " + std::to_string(state_->options.body_limit) + " bytes";
    } else if (ec == bhttp::error::header_limit) {
      status = 431;
      message = "request header exceeds " + std::to_string(state_->options.header_limit) + " bytes";
    }
    auto res = std::make_shared<Response>(static_cast<bhttp::status>(status), 11);
    res->set(bhttp::field::content_type, "application/json");
    res->set(bhttp::field::connection, "close");
    res->body() = openai_error_body(status, message, openai_error_type(status));
    res->prepare_payload();
    write_response(std::move(res), true);
  }

  // While a response is in progress, a read stays posted: it sees the client close, and
  // keeps any pipelined bytes in buffer_ for the next request.
  void start_watch() {
    if (watching_ || buffer_.size() >= kWatchBufferLimit) return;
    watching_ = true;
    socket_.async_read_some(buffer_.prepare(4096),
                            beast::bind_front_handler(&ServerSession::on_watch,
                                                      shared_from_this()));
  }

  void on_watch(beast::error_code ec, std::size_t n) {
    watching_ = false;
    if (ec) return close();
    buffer_.commit(n);
    if (!response_complete_ || writing_) return start_watch();
    if (waiting_for_next_) {
      waiting_for_next_ = false;
      do_read_request();
    }
  }

  void enqueue(Outgoing out) {
    if (gone_) return;
    queued_bytes_ += out.full ? out.full->body().size() : out.raw.size();
    queue_.push_back(std::move(out));
    if (!writing_) do_write();
  }

  void do_write() {
    writing_ = true;
    auto& out = queue_.front();
    auto done = beast::bind_front_handler(&ServerSession::on_write, shared_from_this());
    if (out.full)
      bhttp::async_write(socket_, *out.full, std::move(done));
    else
      asio::async_write(socket_, asio::buffer(out.raw), std::move(done));
  }

  void on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    if (ec) return close();
    auto& out = queue_.front();
    queued_bytes_ -= out.full ? out.full->body().size() : out.raw.size();
    queue_.pop_front();
    if (!queue_.empty()) return do_write();
    if (!response_complete_) return;
    // The answer is complete, so "client gone" no longer applies to it; without this a
    // keep-alive connection would keep one callback per request it ever served.
    std::vector<std::function<void()>>().swap(gone_callbacks_);
    if (close_after_) return shutdown();
    if (watching_) {
      // The watch read doubles as the wait for the next request.
      waiting_for_next_ = true;
      arm_timer(state_->options.header_timeout);
      return;
    }
    do_read_request();
  }

  void arm_timer(std::chrono::milliseconds timeout) {
    timer_.expires_after(timeout);
    timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->close();
    });
  }

  void shutdown() {
    beast::error_code ignored;
    socket_.shutdown(Socket::shutdown_send, ignored);
    close();
  }

  void close() {
    timer_.cancel();
    beast::error_code ignored;
    socket_.close(ignored);
    if (gone_) return;
    gone_ = true;
    auto callbacks = std::move(gone_callbacks_);
    for (auto& cb : callbacks) cb();
  }

  Socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<Server::State> state_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::deque<Outgoing> queue_;
  std::size_t queued_bytes_ = 0;
  std::vector<std::function<void()>> gone_callbacks_;
  bool writing_ = false;
  bool watching_ = false;
  bool waiting_for_next_ = false;
  bool response_complete_ = false;
  bool close_after_ = false;
  bool gone_ = false;
};

// --- Exchange ---------------------------------------------------------------------------

Exchange::Exchange(std::shared_ptr<ServerSession> session, Request request)
    : session_(std::move(session)), request_(std::move(request)) {}

Exchange::~Exchange() {
  if (!answered_) session_->abandon();
}

asio::any_io_executor Exchange::executor() const { return session_->executor(); }
const std::string& Exchange::remote() const { return session_->remote(); }
bool Exchange::client_gone() const { return session_->gone(); }
std::size_t Exchange::queued_bytes() const { return session_->queued_bytes(); }

void Exchange::on_client_gone(std::function<void()> callback) {
  session_->on_gone(std::move(callback));
}

void Exchange::reply(Response response) {
  answered_ = true;
  response.version(request_.version());
  response.keep_alive(request_.keep_alive());
  if (!session_->options().server_name.empty())
    response.set(bhttp::field::server, session_->options().server_name);
  response.prepare_payload();
  bool close_after = !response.keep_alive();
  session_->write_response(std::make_shared<Response>(std::move(response)), close_after);
}

void Exchange::reply(bhttp::status status, std::string body, std::string_view content_type) {
  Response res(status, request_.version());
  res.set(bhttp::field::content_type, content_type);
  res.body() = std::move(body);
  reply(std::move(res));
}

void Exchange::reply_error(int status, std::string_view message, std::string_view param) {
  reply(static_cast<bhttp::status>(status),
        openai_error_body(status, message, openai_error_type(status), param));
}

void Exchange::begin_stream(ResponseHeader header) {
  answered_ = true;
  header.version(11);
  header.keep_alive(request_.keep_alive());
  header.chunked(true);
  if (!session_->options().server_name.empty())
    header.set(bhttp::field::server, session_->options().server_name);
  std::ostringstream out;
  out << header.base();
  session_->write_raw(out.str(), false, false);
}

void Exchange::send(std::string_view data) {
  if (data.empty()) return;  // an empty chunk would end the stream
  char size[20];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string chunk;
  chunk.reserve(static_cast<std::size_t>(n) + data.size() + 2);
  chunk.append(size, static_cast<std::size_t>(n)).append(data).append("\r\n");
  session_->write_raw(std::move(chunk), false, false);
}

void Exchange::finish() { session_->write_raw("0\r\n\r\n", true, !request_.keep_alive()); }

// --- Server -----------------------------------------------------------------------------

Server::Server(asio::io_context& io, Handler handler, ServerOptions options)
    : io_(io), state_(std::make_shared<State>()) {
  state_->handler = std::move(handler);
  state_->options = std::move(options);
}

Server::~Server() { stop(); }

void Server::listen(const Address& address) {
  auto endpoint = address.endpoint();
  auto acceptor = std::make_unique<Acceptor>(io_);
  try {
    if (address.kind == Address::Kind::unix_socket) ::unlink(address.path.c_str());
    acceptor->open(endpoint.protocol());
    if (address.kind == Address::Kind::tcp)
      acceptor->set_option(asio::socket_base::reuse_address(true));
    acceptor->bind(endpoint);
    acceptor->listen(asio::socket_base::max_listen_connections);
  } catch (const boost::system::system_error& e) {
    throw std::system_error(e.code(), "listen on " + address.to_string());
  }
  if (address.kind == Address::Kind::unix_socket) {
    ::chmod(address.path.c_str(), state_->options.unix_socket_mode);
    state_->unix_paths.push_back(address.path);
  }
  state_->acceptors.push_back(std::move(acceptor));
  do_accept(state_->acceptors.size() - 1);
}

std::vector<uint16_t> Server::ports() const {
  std::vector<uint16_t> ports;
  for (const auto& a : state_->acceptors) ports.push_back(port_of(a->local_endpoint()));
  return ports;
}

void Server::do_accept(std::size_t index) {
  auto& acceptor = *state_->acceptors[index];
  acceptor.async_accept(
      asio::make_strand(io_), [this, index, state = state_](beast::error_code ec, Socket socket) {
        if (state->stopped) return;
        if (!ec) {
          std::string remote = "unix";
          beast::error_code ignored;
          auto peer = socket.remote_endpoint(ignored);
          if (peer.data()->sa_family == AF_INET || peer.data()->sa_family == AF_INET6) {
            int one = 1;
            ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            char host[64] = "";
            const auto* sin = reinterpret_cast<const sockaddr_in*>(peer.data());
            if (peer.data()->sa_family == AF_INET)
              ::inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
            remote = std::string(host) + ":" + std::to_string(port_of(peer));
          }
          std::make_shared<ServerSession>(std::move(socket), state, std::move(remote))->start();
        } else if (ec != asio::error::operation_aborted) {
          logger().warn("accept_failed", {{"error", ec.message()}});
        }
        if (ec != asio::error::operation_aborted) do_accept(index);
      });
}

void Server::stop() {
  std::vector<ServerSession*> open;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopped) return;
    state_->stopped = true;
    open.assign(state_->sessions.begin(), state_->sessions.end());
    // Closing from another thread is posted to each session's strand; the pointer is only
    // used while the lock keeps the session from finishing its destructor.
    for (auto* s : open) s->close_from_outside();
  }
  for (auto& a : state_->acceptors) {
    beast::error_code ignored;
    a->close(ignored);
  }
  for (const auto& path : state_->unix_paths) ::unlink(path.c_str());
}

}  // namespace duet::http
