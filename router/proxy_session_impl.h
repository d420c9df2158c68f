#pragma once
// ProxySession's member definitions, for the files that instantiate it: proxy_session.cc
// (the listeners' streams) and the unit tests (in-memory streams).

#include "router/proxy_session.h"

#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>

#include "router/access_check.h"
#include "router/field_scan.h"
#include "router/router_logger.h"
#include "router/wire_format.h"

namespace duet::router {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// The peer closed, reset, timed out or the session closed it: nothing to answer.
template <class Stream, class Upstreams>
bool ProxySession<Stream, Upstreams>::connection_ended(beast::error_code ec) {
  // Success first: it is every request's case (twice), and each comparison below builds an
  // error_code of another category (400 instructions a request, callgrind).
  if (!ec) return false;
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == beast::error::timeout ||
         ec == asio::error::bad_descriptor;
}

template <class Stream, class Upstreams>
ProxySession<Stream, Upstreams>::ProxySession(Stream stream, WorkerContext& worker, Peer peer,
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

template <class Stream, class Upstreams>
ProxySession<Stream, Upstreams>::~ProxySession() {
  worker_.connections.erase(this);
  worker_.open_connections.fetch_sub(1, std::memory_order_relaxed);
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::start() {
  if constexpr (kTls) return do_handshake();
  do_read_header();
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::do_handshake() {
  if constexpr (kTls) {
    beast::get_lowest_layer(stream_).expires_after(worker_.limits.header_timeout);
    stream_.async_handshake(
        asio::ssl::stream_base::server,
        beast::bind_front_handler(&ProxySession::on_handshake, this->shared_from_this()));
  }
}

// A failed handshake (wrong protocol version, plain HTTP on the TLS port, a scanner) is
// the client's problem: a debug line, no reply.
template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::on_handshake(beast::error_code ec) {
  if (ec) {
    router_logger().debug("tls_handshake_failed", {{"conn", id_}, {"error", ec.message()}});
    return close();
  }
  do_read_header();
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::drain() {
  if (!busy()) close();  // idle keep-alive: close now; busy: next_request() closes
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::close() {
  if (phase_ == Phase::closed) return;
  phase_ = Phase::closed;
  if (auto relay = relay_.lock()) relay->cancel();
  // Ends the TCP connection under either stream. A TLS connection ends without close_notify:
  // HTTP/1.1 framing already tells where each response ends, and a TLS shutdown would need
  // its own read and write while the relay's may still be pending.
  auto& socket = beast::get_lowest_layer(stream_);
  socket.shutdown_send();
  socket.close();
}

// A handler that ends after close() finds the phase closed and stays there.
template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::enter(Phase phase) {
  if (phase_ != Phase::closed) phase_ = phase;
}

template <class Stream, class Upstreams>
bool ProxySession<Stream, Upstreams>::busy() const {
  // A connection that has not sent its first request yet (its TLS handshake or its header
  // may be on the way) was opened to send one: closing it would fail that request, which a
  // client does not retry as it retries an idle keep-alive connection. Part of a header
  // that came in counts the same. header_timeout bounds both.
  if (phase_ == Phase::reading_header)
    return requests_ == 0 || buffer_.size() > 0 || (parser_ && parser_->got_some());
  return phase_ == Phase::checking || phase_ == Phase::reading_body ||
         phase_ == Phase::relaying || phase_ == Phase::replying;
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::do_read_header() {
  begin_header();
  read_request();
}

// A fresh parser and the header's limits; the caller reads.
template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::begin_header() {
  enter(Phase::reading_header);
  parser_.emplace(worker_.limits.max_header_bytes, worker_.limits.max_body_bytes);
  // Covers the whole header: a slow (or idle keep-alive) client is closed when it passes.
  beast::get_lowest_layer(stream_).expires_after(worker_.limits.header_timeout);
}

// A request is read as an engine's answer is (upstream_relay.cc): parse what is buffered and
// read only when the parser needs more. The buffer then holds only what the parser cannot
// take yet: a part of the header, which the parser holds to maxHeaderBytes; the body and its
// chunk framing it takes as they come (request_parser.h).
template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::read_request() {
  const bool reading_body = phase_ != Phase::reading_header;  // else the header
  while (buffer_.size() > 0) {
    beast::error_code ec;
    std::size_t used = parser_->put(bytes_of(buffer_.data()), ec);
    buffer_.consume(used);
    if (reading_body && !body_within_budget()) return refuse_overloaded(kBodiesFull);
    bool part_read = reading_body ? parser_->is_done() : parser_->is_header_done();
    if (ec || part_read) return request_part_read(ec);
    if (used == 0) break;
  }
  auto on_bytes = [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
    self->buffer_.commit(n);
    self->on_request_bytes(ec);
  };
  if constexpr (kWaitsForBytes) {
    if (!reading_body && buffer_.size() == 0) {  // idle: before a request, or after a local reply
      buffer_.shrink_to_fit();
      return read_when_readable(kReadSize, std::move(on_bytes));
    }
  }
  stream_.async_read_some(buffer_.prepare(kReadSize), std::move(on_bytes));
}

// The end of a read of the request (read_request's, or the watch's that became the next
// request's first read): its bytes are in buffer_.
template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::on_request_bytes(beast::error_code ec) {
  if (phase_ == Phase::closed) return;  // close() came first: nothing to answer
  // A TLS client that leaves without close_notify (most do, between requests) ends its
  // stream as a plain one does: not a malformed request to answer 400.
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
    // As Beast's reads: nothing yet is the end of the connection, a part is a cut request.
    if (!parser_->got_some()) return request_part_read(http::error::end_of_stream);
    ec = {};
    parser_->put_eof(ec);
    return request_part_read(ec);
  }
  if (ec) return request_part_read(ec);
  read_request();
}

// A declared length was taken whole on the header; a chunked body takes room as it grows.
// The body of a refused request is dropped, not held: it takes none.
template <class Stream, class Upstreams>
bool ProxySession<Stream, Upstreams>::body_within_budget() {
  std::size_t size = parser_->get().body().size();
  return phase_ == Phase::dropping_body || size <= budget_.body_bytes() ||
         budget_.reserve_body(size + kBodyBudgetStep);
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::request_part_read(beast::error_code ec) {
  if (phase_ == Phase::reading_header) return on_read_header(ec);
  on_read_body(ec);
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::on_read_header(beast::error_code ec) {
  if (connection_ended(ec)) return close();
  enter(Phase::checking);
  started_ = EventClock::now();
  if (parser_->is_header_done()) note_request_line();
  if (ec) return reject(ec);
  check_header();
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::note_request_line() {
  const auto& header = parser_->get();
  record_.method = http::to_string(header.method());
  record_.target = header.target();
  version_ = header.version();
  after_ = keeps_alive(header.fields(), version_) && !worker_.draining ? After::next_request : After::close;
}

// Everything that can refuse a request does so on its header: the framing (RFC 9112), then
// SPEC §5 steps 2 and 3 (JWT, rate limit), then the router's budget.
template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::check_header() {
  const auto& header = parser_->get();
  if (auto bad = check_request_framing(header, parser_->chunked()))
    return reject(bad->status, std::move(bad->message));
  AccessResult access = check_access(header, worker_, peer_.ip);
  record_.token = std::move(access.verdict);
  if (access.status != 0) return refuse(access_denied_response(access, version_, keep_alive()));
  if (!budget_.enter()) return refuse_overloaded(kRequestsFull);
  if (auto length = parser_->content_length(); length && !budget_.reserve_body(*length))
    return refuse_overloaded(kBodiesFull);
  if (beast::iequals(field_value(header.fields(), http::field::expect), "100-continue"))
    return do_continue();
  do_read_body();
}

// A refusal decided on the header goes out at once: a refused client never makes the router
// wait for or hold its body. The connection stays only when the rest of the request is
// there already or declared small: it is read and dropped after the reply. A large, chunked
// or not yet sent (100-continue) body closes the connection instead.
template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::refuse(StringResponse response) {
  auto length = parser_->content_length();
  bool expects_continue =
      beast::iequals(field_value(parser_->get().fields(), http::field::expect), "100-continue");
  bool small_body = length && *length <= kDropBytes && !expects_continue;
  bool drop_body = keep_alive() && (parser_->is_done() || small_body);
  after_ = drop_body ? After::drop_body : After::linger;
  reply(std::move(response));
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::refuse_overloaded(std::string_view message) {
  record_.error = message;
  if (phase_ == Phase::reading_body) {  // part of it is read already: the connection ends
    after_ = After::linger;
    return reply(overloaded_response(record_.error, version_, false));
  }
  refuse(overloaded_response(record_.error, version_, keep_alive()));
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::do_continue() {
  beast::get_lowest_layer(stream_).expires_after(kReplyTimeout);
  asio::async_write(
      stream_, asio::buffer(kContinue.data(), kContinue.size()),
      beast::bind_front_handler(&ProxySession::on_continue, this->shared_from_this()));
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::on_continue(beast::error_code ec, std::size_t) {
  if (ec) return close();
  do_read_body();
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::do_read_body() {
  enter(Phase::reading_body);
  read_body(kBodyTimeout);
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::do_drop_body() {
  enter(Phase::dropping_body);
  read_body(kLinger);
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::read_body(std::chrono::steady_clock::duration limit) {
  if (parser_->is_done()) return on_read_body({});
  beast::get_lowest_layer(stream_).expires_after(limit);
  read_request();
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::on_read_body(beast::error_code ec) {
  if (connection_ended(ec)) return close();
  if (phase_ == Phase::dropping_body) {  // read to keep the connection
    if (ec) return close();
    after_ = After::next_request;
    return next_request();
  }
  if (ec) return reject(ec);
  request_ = parser_->release();
  handle_request();
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::handle_request() {
  record_.table = worker_.table;
  if (is_models_request(request_.method(), record_.target))
    return reply(models_response(*record_.table, version_, keep_alive()));
  RequestBody body(request_.body(), record_.table->prefix_policies());
  const Route* route = match_route(*record_.table, record_.target, body);
  if (body.malformed()) return reply_error(400, malformed_body_message(request_.body()));
  if (route) return start_relay(*route, body);
  if (!record_.table->synced())
    return reply_error(503, "no routing table yet: no duetd has sent its state");
  reply_error(404, "no route matches " + std::string(record_.method) + " " + record_.target);
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::start_relay(const Route& route, RequestBody& body) {
  VersionHint hint;
  if (!route.spec.canary_header_name.empty())
    hint.canary_header = field_value(request_.fields(), std::string_view(route.spec.canary_header_name));
  hint.sticky_key = sticky_key(record_.token.get(), route.spec.stickiness_claim, peer_.ip, sticky_);
  if (const auto& header = route.spec.scheduling.session_header; !header.empty())
    hint.session_header = field_value(request_.fields(), std::string_view(header));
  Decision decision = decide(route, body, hint);
  if (body.malformed()) return reply_error(400, malformed_body_message(request_.body()));
  record_.route = route.spec.name();
  record_.tokens = decision.tokens;
  first_choice_ = decision.target_count ? decision.targets[0] : Target{};
  using Relay = UpstreamRelay<Stream, Upstreams>;
  auto relay = std::allocate_shared<Relay>(
      RecyclingAllocator<Relay>{}, stream_, worker_, record_.table, decision, std::move(request_), peer_,
      [self = this->shared_from_this()](RelayOutcome outcome) {
        self->on_relay_done(std::move(outcome));
      });
  relay_ = relay;
  enter(Phase::relaying);
  start_watch();
  relay->start();
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::on_relay_done(RelayOutcome outcome) {
  relay_.reset();
  record_.attempts = outcome.attempts;
  record_.migrations = outcome.migrations;
  record_.first_byte = outcome.first_byte;
  record_.chunk_gaps = outcome.chunk_gaps;
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
  record_.decision = std::move(outcome.decision);
  if (outcome.response_started) record_.why = outcome.why;
  if (outcome.endpoint && outcome.response_started) record_.backend = outcome.endpoint->backend;
  record_.status = outcome.status;
  if (phase_ == Phase::closed) {
    record_.error = std::move(outcome.error);
    return end_request();
  }
  if (!outcome.response_started) return reply_error(outcome.status, std::move(outcome.error));
  record_.error = std::move(outcome.error);
  if (!outcome.client_reusable) {
    end_request();
    return close();
  }
  end_request();
  next_request();
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::reply(StringResponse response) {
  record_.status = response.result_int();
  record_.bytes = response.body().size();
  if (!keep_alive()) response.keep_alive(false);
  enter(Phase::replying);
  reply_ = serialize(response);
  beast::get_lowest_layer(stream_).expires_after(kReplyTimeout);
  asio::async_write(stream_, asio::buffer(reply_),
                    beast::bind_front_handler(&ProxySession::on_reply, this->shared_from_this()));
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::reply_error(int status, std::string message) {
  record_.error = std::move(message);
  reply(error_response(status, record_.error, version_, keep_alive()));
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::on_reply(beast::error_code ec, std::size_t) {
  reply_.clear();
  end_request();
  if (ec) return close();
  if (after_ == After::linger) return do_linger();
  if (after_ == After::drop_body) return do_drop_body();
  next_request();
}

// After refusing a request whose body may still be coming, read and drop what the client
// sends (kLinger, kDropBytes) before closing: see kLinger.
template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::do_linger() {
  enter(Phase::lingering);
  beast::get_lowest_layer(stream_).shutdown_send();
  beast::get_lowest_layer(stream_).expires_after(kLinger);
  buffer_.clear();
  lingered_ = 0;
  stream_.async_read_some(
      buffer_.prepare(kReadSize),
      beast::bind_front_handler(&ProxySession::on_linger, this->shared_from_this()));
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::on_linger(beast::error_code ec, std::size_t n) {
  lingered_ += n;
  if (ec || phase_ == Phase::closed || lingered_ >= kDropBytes) return close();
  stream_.async_read_some(
      buffer_.prepare(kReadSize),
      beast::bind_front_handler(&ProxySession::on_linger, this->shared_from_this()));
}

// A request that cannot be read whole: the status says why, then the connection closes
// (what is left of the request on the wire cannot be told apart from the next one).
template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::reject(beast::error_code ec) {
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

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::reject(int status, std::string message) {
  after_ = After::linger;
  reply_error(status, std::move(message));
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::start_watch() {
  if (watching_ || phase_ == Phase::closed || buffer_.size() >= kWatchBufferLimit) return;
  watching_ = true;
  beast::get_lowest_layer(stream_).expires_never();  // the relay sets one for its writes
  post_watch();
}

// A plain connection waits for the client's bytes (or its end) without a buffer, and reads
// them once they are there: a keep-alive connection idle between requests then holds no read
// buffer (next_request() frees it), and no read is tried before there is something to read.
// Its read is the usual size, as it is most often the next request's first read: the buffer
// then comes from the recycled ones (recycling_allocator.h), and the request in one read.
// TLS reads through the stream: OpenSSL may hold bytes the socket no longer shows.
template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::post_watch() {
  auto on_bytes = beast::bind_front_handler(&ProxySession::on_watch, this->shared_from_this());
  if constexpr (kWaitsForBytes)
    read_when_readable(kReadSize, std::move(on_bytes));
  else
    stream_.async_read_some(buffer_.prepare(4096), std::move(on_bytes));
}

template <class Stream, class Upstreams>
template <class Done>
void ProxySession<Stream, Upstreams>::read_when_readable(std::size_t size, Done done) {
  stream_.async_wait_readable(
      [self = this->shared_from_this(), size, done = std::move(done)](beast::error_code ec) mutable {
        std::size_t n = 0;
        if (!ec) {
          n = self->stream_.read_now(self->buffer_.prepare(size), ec);
          if (ec == asio::error::would_block) {
            // Woken for nothing: wait again, unless the session closed meanwhile.
            if (self->phase_ != Phase::closed) return self->read_when_readable(size, std::move(done));
            ec = asio::error::operation_aborted;
          }
        }
        done(ec, n);
      });
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::on_watch(beast::error_code ec, std::size_t n) {
  watching_ = false;
  if (!ec) buffer_.commit(n);  // pipelined bytes of the next request: kept for its parser
  if (phase_ == Phase::relaying) {
    if (!ec) return start_watch();
    return close();  // the client went away: close() cancels the relay
  }
  if (phase_ == Phase::reading_header) return on_request_bytes(ec);  // see next_request()
  if (phase_ == Phase::closed || (ec && ec != asio::error::operation_aborted)) return close();
  if (phase_ == Phase::resuming) do_read_header();
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::end_request() {
  record_.worker = worker_.index;
  record_.connection = id_;
  record_.request = ++requests_;
  record_.duration = EventClock::now() - started_;
  worker_.observer.on_request_done(record_);
  record_ = {};  // lets the routing table and the token go
  budget_.release();  // a keep-alive connection holds the budget only while a request runs
}

template <class Stream, class Upstreams>
void ProxySession<Stream, Upstreams>::next_request() {
  if (phase_ == Phase::closed) return;
  if (worker_.draining || after_ != After::next_request) return close();
  if (watching_ && buffer_.size() == 0) {
    // Nothing of the next request is here yet: the watch's read, still posted, becomes the
    // header's first read. Cancelling it to post another cost a recv that found nothing on
    // every keep-alive request (and with TLS an SSL_read that found nothing too).
    if constexpr (kWaitsForBytes) buffer_.shrink_to_fit();  // its watch holds no buffer: idle costs none
    return begin_header();
  }
  if (watching_) {
    // Pipelined bytes wait in buffer_: the posted read must end before they are parsed (and
    // before the next header read starts); its bytes are kept.
    enter(Phase::resuming);
    beast::get_lowest_layer(stream_).cancel();
    return;
  }
  do_read_header();
}

}  // namespace duet::router
