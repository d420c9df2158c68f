#include "router/upstream_relay.h"

#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/ssl.hpp>

#include "router/router_logger.h"
#include "router/tls_stream.h"
#include "router/wire_format.h"

namespace duet::router {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

// An engine that does not accept within this is treated like one that refused (failover),
// even when the route allows a much longer wait for the first byte.
constexpr std::chrono::seconds kConnectTimeout{5};
constexpr std::size_t kUpstreamHeaderLimit = 64 * 1024;
constexpr std::size_t kReadSize = 16 * 1024;

}  // namespace

template <class Stream>
UpstreamRelay<Stream>::UpstreamRelay(Stream& client, WorkerContext& worker,
                                     std::shared_ptr<const RoutingTable> table, Decision decision,
                                     ProxyRequest request, std::string_view client_address,
                                     Done done)
    : client_(client),
      worker_(worker),
      table_(std::move(table)),
      decision_(decision),
      request_(std::move(request)),
      done_(std::move(done)),
      client_keep_alive_(request_.keep_alive()),
      client_version_(request_.version()),
      started_(std::chrono::steady_clock::now()) {
  prepare_upstream_request(request_, client_address);
}

template <class Stream>
void UpstreamRelay<Stream>::start() {
  worker_.stats.enter();
  try_next();
}

template <class Stream>
void UpstreamRelay<Stream>::cancel() {
  cancelled_ = true;
  if (upstream_) upstream_->stream.close();
}

template <class Stream>
void UpstreamRelay<Stream>::try_next() {
  pick_ =
      pick(decision_, worker_.rng, {tried_.data(), tried_count_}, std::chrono::steady_clock::now());
  if (!pick_.endpoint) {
    if (outcome_.attempts == 0)
      return finish(503, "no Ready endpoint for route " + decision_.route->spec.name);
    return finish(502, std::move(outcome_.error));
  }
  ++outcome_.attempts;
  outcome_.target = pick_.target;
  outcome_.endpoint = pick_.endpoint;
  in_flight_ = InFlight(*pick_.endpoint);
  if (auto idle = worker_.upstreams.take(pick_.endpoint->address)) {
    upstream_ = std::move(idle);
    return do_write_request();
  }
  do_connect();
}

template <class Stream>
void UpstreamRelay<Stream>::do_connect() {
  upstream_ = std::make_unique<UpstreamConnection>(
      TimedSocket(TimedSocket::Socket(worker_.io), worker_.deadlines));
  upstream_->peer = pick_.endpoint->address;
  upstream_->buffer.reserve(kReadSize);  // a response header and a body in one read
  upstream_->stream.expires_after(std::min<std::chrono::steady_clock::duration>(
      kConnectTimeout, decision_.route->spec.first_byte_timeout));
  upstream_->stream.async_connect(
      upstream_->peer,
      beast::bind_front_handler(&UpstreamRelay::on_connect, this->shared_from_this()));
}

template <class Stream>
void UpstreamRelay<Stream>::on_connect(beast::error_code ec) {
  if (ec) return upstream_failed(ec, "connect");
  beast::error_code ignored;
  upstream_->stream.socket().set_option(tcp::no_delay(true), ignored);  // SSE: no Nagle delay
  do_write_request();
}

template <class Stream>
void UpstreamRelay<Stream>::do_write_request() {
  wire_.clear();
  append_head(wire_, request_.base());
  wire_ += request_.body();
  upstream_->stream.expires_after(decision_.route->spec.first_byte_timeout);
  boost::asio::async_write(
      upstream_->stream, boost::asio::buffer(wire_),
      beast::bind_front_handler(&UpstreamRelay::on_write_request, this->shared_from_this()));
}

template <class Stream>
void UpstreamRelay<Stream>::on_write_request(beast::error_code ec, std::size_t) {
  if (ec) return upstream_failed(ec, "write request");
  do_read_header();
}

template <class Stream>
void UpstreamRelay<Stream>::do_read_header() {
  parser_.emplace();
  parser_->body_limit(boost::none);  // a stream may run as long as the engine writes
  parser_->header_limit(kUpstreamHeaderLimit);
  parser_->skip(request_.method() == http::verb::head);
  upstream_->buffer.clear();
  upstream_->stream.expires_after(decision_.route->spec.first_byte_timeout);
  http::async_read_header(
      upstream_->stream, upstream_->buffer, *parser_,
      beast::bind_front_handler(&UpstreamRelay::on_read_header, this->shared_from_this()));
}

template <class Stream>
void UpstreamRelay<Stream>::on_read_header(beast::error_code ec, std::size_t) {
  if (ec) return upstream_failed(ec, "read response header");
  // From here on the response belongs to the client: no retry (SPEC §5 step 7).
  last_piece_ = std::chrono::steady_clock::now();
  outcome_.first_byte = last_piece_ - started_;
  outcome_.response_started = true;
  outcome_.status = parser_->get().result_int();
  if (outcome_.status >= 500)
    eject_if_failing(Failure::status_5xx);
  else
    report_success(*pick_.endpoint);
  bool until_eof = !parser_->is_done() && !parser_->content_length() && !parser_->chunked();
  prepare_client_response(
      parser_->get(), client_version_, client_keep_alive_, until_eof,
      {decision_.route->spec.name, pick_.endpoint->backend, to_string(pick_.target->track)});
  outcome_.client_reusable = parser_->get().keep_alive();
  client_chunked_ = parser_->get().chunked();
  // From here the parser hands on as much body as it has at once, not one chunk at a time.
  parser_->eager(true);
  wire_.clear();
  append_head(wire_, parser_->get().base());
  // The body (or its first piece) came in with the header, as it does for most answers
  // that are not streams: one write carries both to the client instead of two. A stream's
  // header goes at once, before its first chunk.
  if (parser_->is_done() || upstream_->buffer.size() == 0) return do_write_client();
  parse_body();
}

// Before the response header: another endpoint may still answer. An idle keep-alive
// connection that fails is most likely one the engine just closed: one more try on a
// fresh connection to the same endpoint does not count as an attempt.
template <class Stream>
void UpstreamRelay<Stream>::upstream_failed(beast::error_code ec, const char* stage) {
  if (upstream_ && upstream_->stream.expired()) ec = beast::error::timeout;
  in_flight_.release();
  bool was_reused = upstream_ && upstream_->reused;
  upstream_.reset();
  if (cancelled_) return finish(499, "client went away");
  if (was_reused && !fresh_retry_used_ && ec != beast::error::timeout) {
    fresh_retry_used_ = true;
    in_flight_ = InFlight(*pick_.endpoint);
    return do_connect();
  }
  router_logger().warn("upstream_failed", {{"backend", pick_.endpoint->backend},
                                           {"endpoint", pick_.endpoint->address_text},
                                           {"stage", stage},
                                           {"error", ec.message()},
                                           {"attempt", outcome_.attempts}});
  eject_if_failing(Failure::connection);
  outcome_.error = std::string(stage) + " " + pick_.endpoint->backend + ": " + ec.message();
  if (tried_count_ < tried_.size()) tried_[tried_count_++] = pick_.endpoint;
  if (outcome_.attempts < decision_.route->spec.attempts && tried_count_ < tried_.size())
    return try_next();
  finish(ec == beast::error::timeout ? 504 : 502, std::move(outcome_.error));
}

template <class Stream>
void UpstreamRelay<Stream>::eject_if_failing(Failure failure) {
  const Pool& pool = pick_.target->deployment->pool(pick_.target->track);
  if (!report_failure(pool, *pick_.endpoint, failure, std::chrono::steady_clock::now())) return;
  worker_.stats.count_ejection();
  router_logger().warn("endpoint_ejected",
                       {{"backend", pick_.endpoint->backend},
                        {"endpoint", pick_.endpoint->address_text},
                        {"why", failure == Failure::connection ? "connection" : "5xx"},
                        {"ejections", pick_.endpoint->load->ejections.load()}});
}

// First byte: the first body piece (a stream's first token), not the header that engines
// send at once. Then the gap before each later piece (the inter-token latency users see).
template <class Stream>
void UpstreamRelay<Stream>::note_body_piece() {
  auto now = std::chrono::steady_clock::now();
  if (outcome_.bytes == 0)
    outcome_.first_byte = now - started_;
  else
    outcome_.chunk_gaps.observe(to_seconds(now - last_piece_));
  last_piece_ = now;
}

template <class Stream>
void UpstreamRelay<Stream>::do_read_body() {
  if (upstream_->buffer.size() > 0) return parse_body();
  read_more();
}

template <class Stream>
void UpstreamRelay<Stream>::read_more() {
  upstream_->stream.expires_after(decision_.route->spec.idle_timeout);
  // read_some, not read: hand on whatever arrived instead of waiting to fill the buffer.
  upstream_->stream.async_read_some(
      upstream_->buffer.prepare(kReadSize),
      beast::bind_front_handler(&UpstreamRelay::on_read_more, this->shared_from_this()));
}

template <class Stream>
void UpstreamRelay<Stream>::on_read_more(beast::error_code ec, std::size_t n) {
  upstream_->buffer.commit(n);
  if (ec == boost::asio::error::eof) {
    // The end of a body that runs until the engine closes; anywhere else, a cut response.
    ec = {};
    parser_->put_eof(ec);
    if (!ec) return pass_on(0);
  }
  if (ec) return body_failed(ec);
  parse_body();
}

// Decodes what is buffered into the worker's body_piece and passes it on; reads more when that was only
// framing (a chunk header) or a part of one.
template <class Stream>
void UpstreamRelay<Stream>::parse_body() {
  auto& body = parser_->get().body();
  auto& piece = worker_.body_piece;
  body.data = piece.data();
  body.size = piece.size();
  beast::error_code ec;
  std::size_t used = parser_->put(upstream_->buffer.data(), ec);
  upstream_->buffer.consume(used);
  if (ec == http::error::need_more || ec == http::error::need_buffer) ec = {};
  if (ec) return body_failed(ec);
  std::size_t n = piece.size() - body.size;
  if (n > 0 || parser_->is_done()) return pass_on(n);
  if (!wire_.empty()) return do_write_client();  // a stream's header, alone
  if (used > 0 && upstream_->buffer.size() > 0) return parse_body();
  read_more();  // what is buffered is only a part of the next chunk header
}

template <class Stream>
void UpstreamRelay<Stream>::pass_on(std::size_t n) {
  if (n) note_body_piece();
  outcome_.bytes += n;
  std::string_view piece(worker_.body_piece.data(), n);
  if (client_chunked_)
    append_chunk(wire_, piece);
  else
    wire_ += piece;
  if (client_chunked_ && parser_->is_done()) wire_ += kLastChunk;
  do_write_client();
}

template <class Stream>
void UpstreamRelay<Stream>::body_failed(beast::error_code ec) {
  if (upstream_->stream.expired()) ec = beast::error::timeout;
  // The header is gone already: the client can only learn by the connection closing.
  outcome_.client_reusable = false;
  finish(outcome_.status, cancelled_ ? "client went away" : "upstream body: " + ec.message());
}

template <class Stream>
void UpstreamRelay<Stream>::do_write_client() {
  if (wire_.empty()) return on_write_client({}, 0);  // the end of a body read until close
  beast::get_lowest_layer(client_).expires_after(decision_.route->spec.idle_timeout);
  boost::asio::async_write(
      client_, boost::asio::buffer(wire_),
      beast::bind_front_handler(&UpstreamRelay::on_write_client, this->shared_from_this()));
}

template <class Stream>
void UpstreamRelay<Stream>::on_write_client(beast::error_code ec, std::size_t) {
  if (ec) {
    outcome_.client_reusable = false;
    return finish(outcome_.status, "client went away: " + ec.message());
  }
  wire_.clear();
  if (parser_->is_done()) return complete();
  // Waiting for the engine's next piece is the upstream's limit, not the client's.
  beast::get_lowest_layer(client_).expires_never();
  do_read_body();
}

// The whole response reached the client: the engine connection serves the next request
// if the engine allows it and left nothing unread on it.
template <class Stream>
void UpstreamRelay<Stream>::complete() {
  if (parser_->keep_alive() && upstream_->buffer.size() == 0 && !cancelled_)
    worker_.upstreams.put(std::move(upstream_));
  finish(outcome_.status, {});
}

template <class Stream>
void UpstreamRelay<Stream>::finish(int status, std::string error) {
  if (finished_) return;
  finished_ = true;
  worker_.stats.leave();
  in_flight_.release();
  upstream_.reset();  // a connection not given back to the pool is closed here
  outcome_.status = status;
  outcome_.error = std::move(error);
  auto done = std::move(done_);
  done(std::move(outcome_));
}

template class UpstreamRelay<PlainStream>;
template class UpstreamRelay<TlsStream>;

}  // namespace duet::router
