#include "router/proxy_session.h"

#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/ssl.hpp>

#include "router/access_check.h"
#include "router/router_logger.h"
#include "router/wire_format.h"

namespace duet::router {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// A body upload may be slower than a header; engines see the whole body at once anyway.
constexpr std::chrono::seconds kBodyTimeout{60};
constexpr std::chrono::seconds kReplyTimeout{30};
// What a refused client still sends is read and dropped for at most this long and this
// much: closing on unread bytes sends a reset, which can destroy the reply before the client
// reads it. A refused request with a declared body up to kDropBytes keeps its connection.
constexpr std::chrono::seconds kLinger{2};
constexpr std::size_t kDropBytes = 64 * 1024;
// A chunked body's room in the request budget grows this much at a time.
constexpr std::size_t kBodyBudgetStep = 64 * 1024;
constexpr std::string_view kRequestsFull =
    "requests in flight are at the router's limit (limits.maxInFlightRequests); retry later";
constexpr std::string_view kBodiesFull =
    "request bodies held by the router are at their limit (limits.maxBufferedBodyBytes); "
    "retry later";
// Pipelined bytes kept while a response is relayed; beyond this the client is not watched.
constexpr std::size_t kWatchBufferLimit = 64 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::size_t kReadSize = TimedSocket::kReadSize;

// The peer closed, reset, timed out or the session closed it: nothing to answer.
bool connection_ended(beast::error_code ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == beast::error::timeout ||
         ec == asio::error::bad_descriptor;
}

// Ends the TCP connection under either stream. A TLS connection ends without close_notify:
// HTTP/1.1 framing already tells where each response ends, and a TLS shutdown would need
// its own read and write while the relay's may still be pending.
void close_stream(TimedSocket& stream) {
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream.close();
}

}  // namespace

template <class Stream>
ProxySession<Stream>::ProxySession(Stream stream, WorkerContext& worker, Peer peer,
                                   std::shared_ptr<asio::ssl::context> tls)
    : tls_(std::move(tls)),
      stream_(std::move(stream)),
      worker_(worker),
      peer_(std::move(peer)),
      id_(std::to_string(worker.index) + "." + std::to_string(++worker.next_connection)),
      budget_(worker.budget) {
  worker_.connections.insert(this);
  worker_.open_connections.fetch_add(1, std::memory_order_relaxed);
}

template <class Stream>
ProxySession<Stream>::~ProxySession() {
  worker_.connections.erase(this);
  worker_.open_connections.fetch_sub(1, std::memory_order_relaxed);
}

template <class Stream>
void ProxySession<Stream>::start() {
  if constexpr (kTls) return do_handshake();
  do_read_header();
}

template <class Stream>
void ProxySession<Stream>::do_handshake() {
  if constexpr (kTls) {
    beast::get_lowest_layer(stream_).expires_after(worker_.limits.header_timeout);
    stream_.async_handshake(
        asio::ssl::stream_base::server,
        beast::bind_front_handler(&ProxySession::on_handshake, this->shared_from_this()));
  }
}

// A failed handshake (wrong protocol version, plain HTTP on the TLS port, a scanner) is
// the client's problem: a debug line, no reply.
template <class Stream>
void ProxySession<Stream>::on_handshake(beast::error_code ec) {
  if (ec) {
    router_logger().debug("tls_handshake_failed", {{"conn", id_}, {"error", ec.message()}});
    return close();
  }
  do_read_header();
}

template <class Stream>
void ProxySession<Stream>::drain() {
  if (!busy_) close();  // idle keep-alive: close now; busy: next_request() closes
}

template <class Stream>
void ProxySession<Stream>::close() {
  if (closed_) return;
  closed_ = true;
  if (auto relay = relay_.lock()) relay->cancel();
  close_stream(beast::get_lowest_layer(stream_));
}

template <class Stream>
void ProxySession<Stream>::do_read_header() {
  parser_.emplace();
  parser_->header_limit(parser_header_limit(worker_.limits.max_header_bytes));
  header_bytes_ = 0;
  parser_->body_limit(worker_.limits.max_body_bytes);
  // Covers the whole header: a slow (or idle keep-alive) client is closed when it passes.
  beast::get_lowest_layer(stream_).expires_after(worker_.limits.header_timeout);
  reading_body_ = false;
  read_request();
}

// A request is read as an engine's answer is (upstream_relay.cc): parse what is buffered and
// read only when the parser needs more, without the composed operations of Beast's reads.
// The buffer then holds only what the parser cannot take yet: a part of the header (Beast's
// header_limit bounds it), or of a chunk line or the trailer section, on which Beast puts
// no limit: maxHeaderBytes bounds them here.
template <class Stream>
void ProxySession<Stream>::read_request() {
  while (buffer_.size() > 0) {
    beast::error_code ec;
    std::size_t used = 0;
    std::size_t body_before = reading_body_ ? parser_->get().body().size() : 0;
    try {
      used = parser_->put(buffer_.data(), ec);
    } catch (const std::exception&) {
      // Beast throws std::length_error for a field over 64 KiB, which its index cannot hold:
      // a header field past the limit (config caps maxHeaderBytes below it) or a trailer
      // field. No exception may drop the connection without a reply.
      return request_part_read(reading_body_ ? http::error::buffer_overflow
                                             : http::error::header_limit);
    }
    buffer_.consume(used);
    if (ec == http::error::need_more) ec = {};
    if (!reading_body_) header_bytes_ += used;  // the put() that ends the header stops there
    if (!reading_body_ && !ec && parser_->is_header_done() &&
        header_bytes_ > worker_.limits.max_header_bytes)
      ec = http::error::header_limit;
    if (reading_body_ && !ec &&
        framing_over_limit(used, parser_->get().body().size() - body_before,
                           worker_.limits.max_header_bytes))
      ec = http::error::buffer_overflow;
    if (reading_body_ && !body_within_budget()) return refuse_overloaded(kBodiesFull);
    bool part_read = reading_body_ ? parser_->is_done() : parser_->is_header_done();
    if (ec || part_read) return request_part_read(ec);
    if (used == 0) break;
  }
  if (reading_body_ && buffer_.size() >= worker_.limits.max_header_bytes)
    return request_part_read(http::error::buffer_overflow);
  stream_.async_read_some(buffer_.prepare(kReadSize), [self = this->shared_from_this()](
                                                          beast::error_code ec, std::size_t n) {
    self->buffer_.commit(n);
    if (ec == asio::error::eof) {
      // As Beast's reads: nothing yet is the end of the connection, a part is a cut request.
      if (!self->parser_->got_some()) return self->request_part_read(http::error::end_of_stream);
      ec = {};
      self->parser_->put_eof(ec);
      return self->request_part_read(ec);
    }
    if (ec) return self->request_part_read(ec);
    self->read_request();
  });
}

// A declared length was taken whole on the header; a chunked body takes room as it grows.
// The body of a refused request is dropped, not held: it takes none.
template <class Stream>
bool ProxySession<Stream>::body_within_budget() {
  std::size_t size = parser_->get().body().size();
  return discard_body_ || size <= budget_.body_bytes() ||
         budget_.reserve_body(size + kBodyBudgetStep);
}

template <class Stream>
void ProxySession<Stream>::request_part_read(beast::error_code ec) {
  if (reading_body_) return on_read_body(ec);
  on_read_header(ec);
}

template <class Stream>
void ProxySession<Stream>::on_read_header(beast::error_code ec) {
  if (connection_ended(ec)) return close();
  busy_ = true;
  started_ = std::chrono::steady_clock::now();
  if (parser_->is_header_done()) note_request_line();
  if (ec) return reject(ec);
  check_header();
}

template <class Stream>
void ProxySession<Stream>::note_request_line() {
  const auto& header = parser_->get();
  record_.method = http::to_string(header.method());
  target_ = std::string(header.target());
  record_.target = target_;
  version_ = header.version();
  keep_alive_ = header.keep_alive();
}

// Everything that can refuse a request does so on its header: the framing (RFC 9112), then
// SPEC §5 steps 2 and 3 (JWT, rate limit), then the router's budget.
template <class Stream>
void ProxySession<Stream>::check_header() {
  const auto& header = parser_->get();
  if (auto bad = check_request_framing(header, parser_->chunked()))
    return reject(bad->status, std::move(bad->message));
  AccessResult access = check_access(header, worker_, peer_.ip);
  verdict_ = std::move(access.verdict);
  if (verdict_) record_.subject = verdict_->subject;
  if (access.status != 0) return refuse(access_denied_response(access, version_, keep_alive_));
  if (!budget_.enter()) return refuse_overloaded(kRequestsFull);
  if (auto length = parser_->content_length(); length && !budget_.reserve_body(*length))
    return refuse_overloaded(kBodiesFull);
  if (parser_->chunked()) note_header_fields(header, header_fields_);
  if (beast::iequals(header[http::field::expect], "100-continue")) return do_continue();
  do_read_body();
}

// A refusal decided on the header goes out at once: a refused client never makes the router
// wait for or hold its body. The connection stays only when the rest of the request is
// there already or declared small: it is read and dropped after the reply. A large, chunked
// or not yet sent (100-continue) body closes the connection instead.
template <class Stream>
void ProxySession<Stream>::refuse(StringResponse response) {
  auto length = parser_->content_length();
  bool expects_continue = beast::iequals(parser_->get()[http::field::expect], "100-continue");
  discard_body_ =
      keep_alive_ && (parser_->is_done() || (length && *length <= kDropBytes && !expects_continue));
  if (!discard_body_) {
    close_after_reply_ = true;
    keep_alive_ = false;
  }
  reply(std::move(response));
}

template <class Stream>
void ProxySession<Stream>::refuse_overloaded(std::string_view message) {
  error_ = message;
  record_.error = error_;
  if (reading_body_) {  // part of the body is read already: the connection cannot go on
    close_after_reply_ = true;
    keep_alive_ = false;
    return reply(overloaded_response(error_, version_, false));
  }
  refuse(overloaded_response(error_, version_, keep_alive_));
}

template <class Stream>
void ProxySession<Stream>::do_continue() {
  beast::get_lowest_layer(stream_).expires_after(kReplyTimeout);
  asio::async_write(
      stream_, asio::buffer(kContinue.data(), kContinue.size()),
      beast::bind_front_handler(&ProxySession::on_continue, this->shared_from_this()));
}

template <class Stream>
void ProxySession<Stream>::on_continue(beast::error_code ec, std::size_t) {
  if (ec) return close();
  do_read_body();
}

template <class Stream>
void ProxySession<Stream>::do_read_body() {
  if (parser_->is_done()) return on_read_body({});
  beast::get_lowest_layer(stream_).expires_after(discard_body_ ? kLinger : kBodyTimeout);
  reading_body_ = true;
  read_request();
}

template <class Stream>
void ProxySession<Stream>::on_read_body(beast::error_code ec) {
  if (connection_ended(ec)) return close();
  if (discard_body_) {  // the body of a refused request: read to keep the connection
    discard_body_ = false;
    if (ec) return close();
    return next_request();
  }
  if (ec) return reject(ec);
  // Trailer fields came after the access check and are not the client's header: dropped.
  if (parser_->chunked()) strip_trailer_fields(parser_->get(), header_fields_);
  request_ = parser_->release();
  handle_request();
}

template <class Stream>
void ProxySession<Stream>::handle_request() {
  table_ = worker_.table;
  if (is_models_request(request_.method(), target_))
    return reply(models_response(*table_, version_, keep_alive_));
  RequestBody body(request_.body());
  const Route* route = match_route(*table_, target_, body);
  if (body.malformed()) return reply_error(400, malformed_body_message(request_.body()));
  if (route) return start_relay(*route, body);
  if (!table_->synced())
    return reply_error(503, "no routing table yet: no duetd has sent its state");
  reply_error(404, "no route matches " + std::string(record_.method) + " " + target_);
}

template <class Stream>
void ProxySession<Stream>::start_relay(const Route& route, RequestBody& body) {
  VersionHint hint;
  if (!route.spec.canary_header_name.empty())
    hint.canary_header = request_.base()[route.spec.canary_header_name];
  hint.sticky_key = sticky_key(verdict_.get(), route.spec.stickiness_claim, peer_.ip, sticky_);
  Decision decision = decide(route, body, hint);
  if (body.malformed()) return reply_error(400, malformed_body_message(request_.body()));
  record_.route = route.spec.name();
  record_.tokens = decision.tokens;
  first_choice_ = decision.target_count ? decision.targets[0] : Target{};
  auto relay = std::make_shared<UpstreamRelay<Stream>>(
      stream_, worker_, table_, decision, std::move(request_), peer_,
      [self = this->shared_from_this()](RelayOutcome outcome) {
        self->on_relay_done(std::move(outcome));
      });
  relay_ = relay;
  relaying_ = true;
  start_watch();
  relay->start();
}

template <class Stream>
void ProxySession<Stream>::on_relay_done(RelayOutcome outcome) {
  relaying_ = false;
  relay_.reset();
  record_.attempts = outcome.attempts;
  record_.first_byte = outcome.first_byte;
  chunk_gaps_ = outcome.chunk_gaps;
  record_.chunk_gaps = &chunk_gaps_;
  record_.bytes = outcome.bytes;
  if (outcome.target) {
    record_.pool = to_string(outcome.target->pool);
    record_.version = to_string(outcome.target->track);
    if (outcome.target->deployment) record_.deployment = outcome.target->deployment->name;
    if (first_choice_.deployment && (outcome.target->deployment != first_choice_.deployment ||
                                     outcome.target->track != first_choice_.track)) {
      record_.passed_over_deployment = first_choice_.deployment->name;
      record_.passed_over_track = to_string(first_choice_.track);
    }
  }
  if (outcome.endpoint) record_.engine_version = outcome.endpoint->version;
  if (outcome.endpoint && outcome.response_started) record_.backend = outcome.endpoint->backend;
  record_.status = outcome.status;
  if (closed_) {
    error_ = std::move(outcome.error);
    record_.error = error_;
    return end_request();
  }
  if (!outcome.response_started) return reply_error(outcome.status, std::move(outcome.error));
  error_ = std::move(outcome.error);
  record_.error = error_;
  if (!outcome.client_reusable) {
    end_request();
    return close();
  }
  end_request();
  next_request();
}

template <class Stream>
void ProxySession<Stream>::reply(StringResponse response) {
  record_.status = response.result_int();
  record_.bytes = response.body().size();
  if (!keep_alive_ || close_after_reply_) response.keep_alive(false);
  reply_ = serialize(response);
  beast::get_lowest_layer(stream_).expires_after(kReplyTimeout);
  asio::async_write(stream_, asio::buffer(reply_),
                    beast::bind_front_handler(&ProxySession::on_reply, this->shared_from_this()));
}

template <class Stream>
void ProxySession<Stream>::reply_error(int status, std::string message) {
  error_ = std::move(message);
  record_.error = error_;
  reply(error_response(status, error_, version_, keep_alive_));
}

template <class Stream>
void ProxySession<Stream>::on_reply(beast::error_code ec, std::size_t) {
  reply_.clear();
  end_request();
  if (ec) return close();
  if (close_after_reply_) return do_linger();
  if (discard_body_) return do_read_body();
  next_request();
}

// After refusing a request whose body may still be coming, read and drop what the client
// sends (kLinger, kDropBytes) before closing: see kLinger.
template <class Stream>
void ProxySession<Stream>::do_linger() {
  beast::error_code ignored;
  beast::get_lowest_layer(stream_).socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  beast::get_lowest_layer(stream_).expires_after(kLinger);
  buffer_.clear();
  lingered_ = 0;
  stream_.async_read_some(
      buffer_.prepare(kReadSize),
      beast::bind_front_handler(&ProxySession::on_linger, this->shared_from_this()));
}

template <class Stream>
void ProxySession<Stream>::on_linger(beast::error_code ec, std::size_t n) {
  lingered_ += n;
  if (ec || closed_ || lingered_ >= kDropBytes) return close();
  stream_.async_read_some(
      buffer_.prepare(kReadSize),
      beast::bind_front_handler(&ProxySession::on_linger, this->shared_from_this()));
}

// A request that cannot be read whole: the status says why, then the connection closes
// (what is left of the request on the wire cannot be told apart from the next one).
template <class Stream>
void ProxySession<Stream>::reject(beast::error_code ec) {
  const auto& limits = worker_.limits;
  if (ec == http::error::body_limit)
    return reject(413, "request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes");
  if (ec == http::error::header_limit) {
    return reject(431,
                  "request header exceeds " + std::to_string(limits.max_header_bytes) + " bytes");
  }
  if (ec == http::error::buffer_overflow) {
    return reject(400, "a chunk header or the trailer section exceeds " +
                           std::to_string(limits.max_header_bytes) +
                           " bytes (limits.maxHeaderBytes)");
  }
  reject(400, "malformed HTTP request: " + ec.message());
}

template <class Stream>
void ProxySession<Stream>::reject(int status, std::string message) {
  close_after_reply_ = true;
  keep_alive_ = false;
  reply_error(status, std::move(message));
}

template <class Stream>
void ProxySession<Stream>::start_watch() {
  if (watching_ || closed_ || buffer_.size() >= kWatchBufferLimit) return;
  watching_ = true;
  beast::get_lowest_layer(stream_).expires_never();  // the relay sets one for its writes
  stream_.async_read_some(
      buffer_.prepare(4096),
      beast::bind_front_handler(&ProxySession::on_watch, this->shared_from_this()));
}

template <class Stream>
void ProxySession<Stream>::on_watch(beast::error_code ec, std::size_t n) {
  watching_ = false;
  if (!ec) buffer_.commit(n);  // pipelined bytes of the next request: kept for its parser
  if (relaying_) {
    if (!ec) return start_watch();
    return close();  // the client went away: close() cancels the relay
  }
  if (closed_ || (ec && ec != asio::error::operation_aborted)) return close();
  if (want_next_) {
    want_next_ = false;
    do_read_header();
  }
}

template <class Stream>
void ProxySession<Stream>::end_request() {
  record_.worker = worker_.index;
  record_.connection = id_;
  record_.request = ++requests_;
  record_.duration = std::chrono::steady_clock::now() - started_;
  worker_.observer.on_request_done(record_);
  record_ = {};
  table_.reset();
  verdict_.reset();
  budget_.release();  // a keep-alive connection holds the budget only while a request runs
  busy_ = false;
}

template <class Stream>
void ProxySession<Stream>::next_request() {
  if (closed_) return;
  if (worker_.draining || !keep_alive_ || close_after_reply_) return close();
  if (watching_) {
    // The posted read must end before the next header read starts; its bytes are kept.
    want_next_ = true;
    beast::get_lowest_layer(stream_).cancel();
    return;
  }
  do_read_header();
}

template class ProxySession<PlainStream>;
template class ProxySession<TlsStream>;

}  // namespace duet::router
