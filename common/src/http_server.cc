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
#include <atomic>
#include <deque>
#include <mutex>
#include <sstream>
#include <unordered_set>

#include "duet/common/accept_backoff.h"
#include "duet/common/http_error.h"
#include "duet/common/log.h"
#include "duet/common/openai_error.h"
#include "maybe_tls_stream.h"

namespace duet::http {

using Socket = asio::generic::stream_protocol::socket;
using Acceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;
namespace beast = boost::beast;

namespace {
const Logger& http_logger() {
  static const Logger log("http");
  return log;
}
constexpr std::size_t kWatchBufferLimit = 64 * 1024;
// After a refusal, what the client still sends is read and dropped (at most this much, for at
// most this long) before the close, so that the close is a FIN and not a RST that could
// destroy the refusal before the client reads it.
constexpr std::size_t kLingerBytes = 64 * 1024;
constexpr std::chrono::milliseconds kLingerTime{1000};
// Refusals over max_connections are logged at most this often, with their count.
constexpr std::chrono::seconds kRefusalLogEvery{10};
// A cut answer (graceful stop past its deadline) gets this long to write its last bytes.
constexpr std::chrono::milliseconds kCutWriteTime{1000};

std::shared_ptr<Response> error_response(int status, std::string_view message) {
  auto res = std::make_shared<Response>(static_cast<bhttp::status>(status), 11);
  res->set(bhttp::field::content_type, "application/json");
  res->set(bhttp::field::connection, "close");
  res->body() = openai_error_body(status, message, openai_error_type(status));
  res->prepare_payload();
  return res;
}
}  // namespace

// One listening socket and its accept backoff.
struct Listener {
  std::unique_ptr<Acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> retry;
  AcceptBackoff backoff;
};

struct Server::State {
  Handler handler;
  ServerOptions options;
  std::vector<Listener> listeners;
  std::vector<std::string> unix_paths;
  std::mutex mutex;  // sessions run on several threads when the io_context does
  std::unordered_set<ServerSession*> sessions;
  std::size_t served = 0;  // sessions under max_connections (refused ones linger uncounted)
  uint64_t refused = 0;    // since the last connection_refused line
  std::chrono::steady_clock::time_point refusal_logged{};
  std::atomic<bool> stopped = false;
  // A graceful stop: its deadline timer and what runs when the last session is gone, both
  // on one strand.
  std::unique_ptr<asio::steady_timer> cut_timer;
  std::function<void()> on_all_gone;

  std::shared_ptr<asio::ssl::context> tls() {
    std::lock_guard lock(mutex);
    return options.tls;
  }

  // Returns the new listener's index.
  std::size_t add_listener(std::unique_ptr<Acceptor> acceptor, asio::io_context& io) {
    listeners.push_back({std::move(acceptor), std::make_unique<asio::steady_timer>(io), {}});
    return listeners.size() - 1;
  }
};

// One connection: reads requests one at a time, hands each to the handler as an Exchange,
// writes what the Exchange queues, and watches the socket while a response is in progress
// so that a client that goes away is noticed.
class ServerSession : public std::enable_shared_from_this<ServerSession> {
 public:
  ServerSession(Socket socket, std::shared_ptr<Server::State> state, std::string remote,
                std::string peer)
      : state_(std::move(state)),
        tls_context_(remote == "unix" ? nullptr : state_->tls()),
        stream_(std::move(socket)),
        timer_(stream_.get_executor()),
        remote_(std::move(remote)),
        peer_(std::move(peer)) {
    if (tls_context_) stream_.use_tls(*tls_context_);
  }

  ~ServerSession() {
    std::lock_guard lock(state_->mutex);
    state_->sessions.erase(this);
    if (counted_) --state_->served;
    if (state_->sessions.empty() && state_->on_all_gone)
      asio::post(state_->cut_timer->get_executor(), std::move(state_->on_all_gone));
  }

  // Serves the connection, or answers 503 when max_connections are already open.
  void start() {
    uint64_t refused = 0;  // to log: refusals since the last line
    {
      std::lock_guard lock(state_->mutex);
      if (state_->stopped) return;
      state_->sessions.insert(this);
      counted_ = state_->served < state_->options.max_connections;
      if (counted_)
        ++state_->served;
      else
        refused = note_refusal();
    }
    if (refused > 0)
      http_logger().warn("connection_refused", {{"reason", "max_connections"},
                                                {"limit", state_->options.max_connections},
                                                {"refused", refused}});
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->handshake(); });
  }

  // Called from Server::stop() on any thread.
  void close_from_outside() {
    asio::post(stream_.get_executor(), [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->close();
    });
  }

  // Called from Server::stop_gracefully() on any thread: no request after the one in
  // progress; an idle keep-alive connection closes now. One that has not sent its first
  // request yet was opened to send one: it gets its answer (header_timeout bounds the wait).
  void drain_from_outside() {
    asio::post(stream_.get_executor(), [weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self) return;
      self->draining_ = true;
      if (!self->busy_ && self->answered_ && self->buffer_.size() == 0 && !self->lingering_)
        self->close();
    });
  }

  // The graceful stop's deadline passed: an answer in progress is ended by its handler.
  void cut_from_outside() {
    asio::post(stream_.get_executor(), [weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self || self->gone_) return;
      auto cut = std::move(self->on_cut_);
      if (!self->busy_ || !cut) return self->close();
      cut();
      if (!self->gone_) self->arm_timer(kCutWriteTime);  // its last bytes, or a stuck client
    });
  }

  bool draining() const { return draining_; }
  void on_cut(std::function<void()> cb) { on_cut_ = std::move(cb); }

  asio::any_io_executor executor() { return stream_.get_executor(); }
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

  // Exchange::break_off: once what is queued is written, the connection ends without the
  // rest of the answer.
  void break_off(bool reset) {
    break_off_ = reset ? BreakOff::reset : BreakOff::fin;
    if (!writing_ && queue_.empty()) end_broken_off();
  }

  // An Exchange was dropped without an answer: the handler has a bug; the client must not hang.
  void abandon() {
    http_logger().error("handler_dropped_request", {{"remote", remote_}});
    close();
  }

 private:
  // A TLS connection's handshake first, under the header timeout; then the connection is
  // served, or refused when it is over max_connections.
  void handshake() {
    if (!stream_.is_tls()) return serve();
    arm_timer(state_->options.header_timeout);
    stream_.tls().async_handshake(asio::ssl::stream_base::server,
                                  [self = shared_from_this()](beast::error_code ec) {
                                    self->timer_.cancel();
                                    if (ec) return self->close();
                                    self->serve();
                                  });
  }

  void serve() {
    if (counted_) return do_read_request();
    auto res = error_response(503, "too many connections (limit " +
                                       std::to_string(state_->options.max_connections) +
                                       "); retry later");
    res->set(bhttp::field::retry_after, "1");
    write_response(std::move(res), true);
  }

  // Under the state's lock. The refusals to report now (0: none): the first, then the
  // count since the last line at most every kRefusalLogEvery.
  uint64_t note_refusal() {
    ++state_->refused;
    auto now = std::chrono::steady_clock::now();
    if (now - state_->refusal_logged < kRefusalLogEvery) return 0;
    state_->refusal_logged = now;
    return std::exchange(state_->refused, 0);
  }

  struct Outgoing {
    std::shared_ptr<Response> full;
    std::string raw;
  };

  // The header first, so that header_check can refuse before any body byte is read; the
  // timer armed here covers header and body.
  void do_read_request() {
    caller_ = peer_;
    parser_.emplace();
    parser_->body_limit(state_->options.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(state_->options.header_limit));
    response_complete_ = false;
    arm_timer(state_->options.header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&ServerSession::on_read_header,
                                                       shared_from_this()));
  }

  void on_read_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read_request(ec, 0);
    if (auto refusal = check_header()) return refuse(std::move(*refusal));
    if (parser_->is_done()) return on_read_request({}, 0);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&ServerSession::on_read_request,
                                                shared_from_this()));
  }

  std::optional<Response> check_header() {
    if (!state_->options.header_check) return std::nullopt;
    try {
      return state_->options.header_check(parser_->get().base(), remote_, caller_);
    } catch (const std::exception& e) {
      http_logger().error("header_check_failed", {{"remote", remote_}, {"error", e.what()}});
      Response res(bhttp::status::internal_server_error, 11);
      res.body() = openai_error_body(500, "internal error", openai_error_type(500));
      return res;
    }
  }

  // Sends a header check's refusal and closes; the body is never read.
  void refuse(Response res) {
    res.version(parser_->get().version());
    res.keep_alive(false);
    if (!state_->options.server_name.empty())
      res.set(bhttp::field::server, state_->options.server_name);
    if (res[bhttp::field::content_type].empty())
      res.set(bhttp::field::content_type, "application/json");
    res.prepare_payload();
    write_response(std::make_shared<Response>(std::move(res)), true);
  }

  void on_read_request(beast::error_code ec, std::size_t) {
    timer_.cancel();
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset)
      return close();
    if (ec) return reject(ec);
    busy_ = true;
    auto exchange = std::make_shared<Exchange>(shared_from_this(), parser_->release(), caller_);
    start_watch();
    dispatch(std::move(exchange));
  }

  // A handler's exception becomes an error reply here; nothing leaves for the io loop, even
  // when building that reply throws (allocation) or the handler had already answered.
  void dispatch(std::shared_ptr<Exchange> exchange) noexcept {
    try {
      state_->handler(exchange);
    } catch (const HttpError& e) {
      reply_error(*exchange, e.status(), e.what(), e.param());
    } catch (const std::exception& e) {
      log_failure(e.what());
      reply_error(*exchange, 500, "internal error");
    } catch (...) {
      log_failure("unknown exception");
      reply_error(*exchange, 500, "internal error");
    }
  }

  void log_failure(const char* what) noexcept {
    try {
      http_logger().error("handler_failed", {{"remote", remote_}, {"error", what}});
    } catch (...) {
    }
  }

  void reply_error(Exchange& exchange, int status, std::string_view message,
                   std::string_view param = {}) noexcept {
    try {
      if (!exchange.answered()) return exchange.reply_error(status, message, param);
    } catch (...) {
    }
    close();  // half an answer, or none that could be built: the client must not wait
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
    write_response(error_response(status, message), true);
  }

  // While a response is in progress, a read stays posted: it sees the client close, and
  // keeps any pipelined bytes in buffer_ for the next request.
  void start_watch() {
    if (watching_ || buffer_.size() >= kWatchBufferLimit) return;
    watching_ = true;
    stream_.async_read_some(buffer_.prepare(4096),
                            beast::bind_front_handler(&ServerSession::on_watch,
                                                      shared_from_this()));
  }

  void on_watch(beast::error_code ec, std::size_t n) {
    watching_ = false;
    if (lingering_) return on_linger(ec, n);
    // Cancelled by on_write: a pipelined request was already in buffer_.
    if (ec == asio::error::operation_aborted && waiting_for_next_ && !gone_) ec = {};
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
      bhttp::async_write(stream_, *out.full, std::move(done));
    else
      asio::async_write(stream_, asio::buffer(out.raw), std::move(done));
  }

  void on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    if (ec) return close();
    auto& out = queue_.front();
    queued_bytes_ -= out.full ? out.full->body().size() : out.raw.size();
    queue_.pop_front();
    if (!queue_.empty()) return do_write();
    if (break_off_ != BreakOff::none) return end_broken_off();
    if (!response_complete_) return;
    // The answer is complete, so "client gone" no longer applies to it; without this a
    // keep-alive connection would keep one callback per request it ever served.
    std::vector<std::function<void()>>().swap(gone_callbacks_);
    on_cut_ = nullptr;
    busy_ = false;
    answered_ = true;
    if (close_after_ || draining_) return shutdown();
    if (watching_) {
      // The watch read doubles as the wait for the next request; when that request (or a
      // part of it) is already buffered, the read is cancelled so that it is parsed now.
      waiting_for_next_ = true;
      arm_timer(state_->options.header_timeout);
      if (buffer_.size() > 0) {
        beast::error_code ignored;
        stream_.socket().cancel(ignored);
      }
      return;
    }
    do_read_request();
  }

  // A FIN in both directions (the client reads EOF where the next chunk should be), or an RST
  // (linger 0: the client's next read fails with a reset).
  void end_broken_off() {
    beast::error_code ignored;
    if (break_off_ == BreakOff::reset)
      stream_.socket().set_option(asio::socket_base::linger(true, 0), ignored);
    else
      stream_.socket().shutdown(Socket::shutdown_both, ignored);
    close();
  }

  void arm_timer(std::chrono::milliseconds timeout) {
    timer_.expires_after(timeout);
    timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->close();
    });
  }

  // The answer is out and the connection ends: FIN, then linger (see kLingerBytes). A TLS
  // connection sends close_notify first, so that the client can tell the end from a cut;
  // the TLS shutdown reads (and drops) what the client still sends, which is its linger.
  void shutdown() {
    lingering_ = true;
    arm_timer(kLingerTime);
    if (stream_.is_tls()) {
      if (!watching_) return close_tls();
      beast::error_code ignored;  // the watch read must end before the shutdown reads
      stream_.socket().cancel(ignored);
      return;
    }
    beast::error_code ignored;
    stream_.socket().shutdown(Socket::shutdown_send, ignored);
    if (!watching_) do_linger();  // else the watch read already in flight lingers
  }

  void close_tls() {
    stream_.tls().async_shutdown([self = shared_from_this()](beast::error_code) { self->close(); });
  }

  void do_linger() {
    watching_ = true;
    stream_.async_read_some(buffer_.prepare(4096),
                            beast::bind_front_handler(&ServerSession::on_watch,
                                                      shared_from_this()));
  }

  void on_linger(beast::error_code ec, std::size_t n) {
    if (stream_.is_tls()) return gone_ ? void() : close_tls();
    lingered_ += n;
    buffer_.consume(buffer_.size());
    if (ec || gone_ || lingered_ >= kLingerBytes) return close();
    do_linger();
  }

  void close() {
    timer_.cancel();
    beast::error_code ignored;
    stream_.socket().close(ignored);
    if (gone_) return;
    gone_ = true;
    auto callbacks = std::move(gone_callbacks_);
    for (auto& cb : callbacks) cb();
  }

  std::shared_ptr<Server::State> state_;
  std::shared_ptr<asio::ssl::context> tls_context_;  // before stream_: outlives it
  MaybeTlsStream stream_;
  asio::steady_timer timer_;
  std::string remote_;
  std::string peer_;    // `uid:N` of a unix socket's peer; empty on TCP
  std::string caller_;  // of the request being read: peer_, or what the header check named
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
  bool lingering_ = false;
  std::size_t lingered_ = 0;
  bool counted_ = false;  // holds one of max_connections
  bool busy_ = false;      // a request was read and its answer is not all written yet
  bool answered_ = false;  // an answer was written whole: the connection may idle now
  enum class BreakOff { none, fin, reset } break_off_ = BreakOff::none;
  bool draining_ = false;  // the server stops gracefully: no request after this one
  std::function<void()> on_cut_;
};

// --- Exchange ---------------------------------------------------------------------------

Exchange::Exchange(std::shared_ptr<ServerSession> session, Request request, std::string caller)
    : session_(std::move(session)), request_(std::move(request)), caller_(std::move(caller)) {}

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

void Exchange::on_cut(std::function<void()> callback) { session_->on_cut(std::move(callback)); }

namespace {
template <class Message>
void set_default_headers(Message& message, const ServerOptions& options) {
  if (!options.server_name.empty()) message.set(bhttp::field::server, options.server_name);
  for (const auto& [name, value] : options.default_headers)
    if (message.find(name) == message.end()) message.set(name, value);
}
}  // namespace

void Exchange::reply(Response response) {
  answered_ = true;
  response.version(request_.version());
  response.keep_alive(request_.keep_alive() && !session_->draining());
  set_default_headers(response, session_->options());
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
  header.keep_alive(request_.keep_alive() && !session_->draining());
  header.chunked(true);
  set_default_headers(header, session_->options());
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

void Exchange::break_off(bool reset) {
  answered_ = true;  // not a handler that dropped its request
  session_->break_off(reset);
}

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
  do_accept(state_->add_listener(std::move(acceptor), io_));
}

void Server::listen_on(int fd) {
  int family = inherited_socket_family(fd);
  auto acceptor = std::make_unique<Acceptor>(io_);
  acceptor->assign(asio::generic::stream_protocol(family, family == AF_UNIX ? 0 : IPPROTO_TCP), fd);
  do_accept(state_->add_listener(std::move(acceptor), io_));
}

std::vector<int> Server::listening_fds() const {
  std::vector<int> fds;
  for (const auto& l : state_->listeners) fds.push_back(l.acceptor->native_handle());
  return fds;
}

void Server::set_tls(std::shared_ptr<asio::ssl::context> tls) {
  std::lock_guard lock(state_->mutex);
  state_->options.tls = std::move(tls);
}

std::vector<uint16_t> Server::ports() const {
  std::vector<uint16_t> ports;
  for (const auto& l : state_->listeners) ports.push_back(port_of(l.acceptor->local_endpoint()));
  return ports;
}

namespace {
std::string remote_of(Socket& socket) {
  beast::error_code ignored;
  auto peer = socket.remote_endpoint(ignored);
  if (peer.data()->sa_family != AF_INET && peer.data()->sa_family != AF_INET6) return "unix";
  int one = 1;
  ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char host[INET6_ADDRSTRLEN] = "";
  if (peer.data()->sa_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(peer.data())->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(port_of(peer));
  }
  ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(peer.data())->sin6_addr, host, sizeof host);
  return "[" + std::string(host) + "]:" + std::to_string(port_of(peer));
}

// The uid of a unix socket's peer as the kernel saw it at connect (SO_PEERCRED): who is
// connected, not who says so. Empty on TCP.
std::string peer_uid_of(Socket& socket) {
  ucred cred{};
  socklen_t size = sizeof cred;
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0 ||
      size != sizeof cred)
    return {};
  return "uid:" + std::to_string(cred.uid);
}
}  // namespace

void Server::do_accept(std::size_t index) {
  auto& acceptor = *state_->listeners[index].acceptor;
  acceptor.async_accept(
      asio::make_strand(io_), [this, index, state = state_](beast::error_code ec, Socket socket) {
        if (state->stopped || ec == asio::error::operation_aborted) return;
        if (ec) return back_off(index, ec);
        if (auto failures = state->listeners[index].backoff.succeeded())
          http_logger().info("accept_recovered", {{"failures", failures}});
        std::string remote = remote_of(socket);
        std::string peer = remote == "unix" ? peer_uid_of(socket) : std::string();
        std::make_shared<ServerSession>(std::move(socket), state, std::move(remote), std::move(peer))
            ->start();
        do_accept(index);
      });
}

void Server::back_off(std::size_t index, const beast::error_code& ec) {
  auto& listener = state_->listeners[index];
  auto wait = listener.backoff.failed();
  if (listener.backoff.first_failure())
    http_logger().warn("accept_failed", {{"error", ec.message()}, {"retry_ms", wait.count()}});
  listener.retry->expires_after(wait);
  listener.retry->async_wait([this, index, state = state_](beast::error_code wait_ec) {
    if (!wait_ec && !state->stopped) do_accept(index);
  });
}

// Also after stop_gracefully(): what is still open closes now.
void Server::stop() {
  {
    std::lock_guard lock(state_->mutex);
    // Closing from another thread is posted to each session's strand; the pointer is only
    // used while the lock keeps the session from finishing its destructor.
    for (auto* s : state_->sessions) s->close_from_outside();
  }
  stop_accepting();
}

void Server::stop_gracefully(std::chrono::milliseconds deadline, std::function<void()> done) {
  auto strand = asio::make_strand(io_);
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopped || state_->cut_timer) return;
    state_->cut_timer = std::make_unique<asio::steady_timer>(strand, deadline);
    state_->on_all_gone = [weak = std::weak_ptr(state_), done = std::move(done)] {
      if (auto state = weak.lock()) state->cut_timer->cancel();
      done();
    };
    for (auto* s : state_->sessions) s->drain_from_outside();
    if (state_->sessions.empty()) asio::post(strand, std::move(state_->on_all_gone));
  }
  stop_accepting();
  state_->cut_timer->async_wait([state = state_](beast::error_code ec) {
    if (ec) return;
    std::lock_guard lock(state->mutex);
    for (auto* s : state->sessions) s->cut_from_outside();
  });
}

void Server::stop_accepting() {
  if (state_->stopped.exchange(true)) return;
  for (auto& l : state_->listeners) {
    beast::error_code ignored;
    l.acceptor->close(ignored);
    l.retry->cancel();
  }
  for (const auto& path : state_->unix_paths) ::unlink(path.c_str());
}

}  // namespace duet::http
