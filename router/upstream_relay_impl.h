#pragma once
// UpstreamRelay's member definitions, for the files that instantiate it: upstream_relay.cc
// (the listeners' streams, TCP engines) and the unit tests (in-memory streams).

#include "router/upstream_relay.h"

#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/asio/write.hpp>

#include "router/field_scan.h"
#include "router/router_logger.h"
#include "router/tls_stream.h"
#include "router/wire_format.h"

namespace duet::router {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

template <class Stream, class Upstreams>
UpstreamRelay<Stream, Upstreams>::UpstreamRelay(Stream& client, WorkerContext& worker,
                                                std::shared_ptr<const RoutingTable> table,
                                                Decision decision, ProxyRequest request,
                                                const Peer& peer, Done done)
    : client_(client),
      worker_(worker),
      table_(std::move(table)),
      decision_(decision),
      request_(std::move(request)),
      done_(std::move(done)),
      client_keep_alive_(keeps_alive(request_.fields(), request_.version())),
      client_version_(request_.version()),
      started_(EventClock::now()),
      peer_(peer) {}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::start() {
  worker_.stats.enter();
  begin_migratable();
  try_next();
}

// A streamed completion on a Route with migration on may move: the first engine is asked for
// token ids and usage (the splicer takes them out again).
template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::begin_migratable() {
  const auto& m = decision_.route->spec.migration;
  if (!m.enabled || request_.method() != http::verb::post) return;
  std::string_view target = request_.target();
  target = target.substr(0, target.find('?'));
  StreamApi api = StreamApi::completions;
  if (target == "/v1/chat/completions") api = StreamApi::chat;
  else if (target != "/v1/completions") return;
  auto body = nlohmann::json::parse(request_.body(), nullptr, false);
  if (body.is_discarded()) return;
  auto made = StreamSplicer::begin(api, body, {m.max_migrations, m.max_tokens, m.text_fallback});
  if (auto* why = std::get_if<std::string>(&made)) {
    router_logger().debug("not_migratable", {{"route", decision_.route->spec.name()}, {"why", *why}});
    // A stream that cannot move still ends with an error event that says why, not a cut.
    if (body.is_object() && body.contains("stream") && body["stream"] == true)
      splicer_.emplace(StreamSplicer::relay_only(api, body, "the request is not movable (" + *why + ")"));
    return;
  }
  splicer_.emplace(std::move(std::get<StreamSplicer>(made)));
  request_.body() = splicer_->first_body();
  client_target_ = request_.target();
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::cancel() {
  cancelled_ = true;
  if (upstream_) upstream_->stream.close();
  if (ready_timer_) ready_timer_->cancel();
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::try_next() {
  pick_ =
      pick(decision_, worker_.rng, {tried_.data(), tried_count_}, EventClock::now(),
           &worker_.prefix_index);
  if (!pick_.endpoint) {
    if (continuing_) return wait_for_ready();
    if (outcome_.attempts == 0)
      return finish(503, "no Ready endpoint for route " + decision_.route->spec.name());
    return finish(502, std::move(outcome_.error));
  }
  ++outcome_.attempts;
  if (continuing_) picked_table_ = newest_table_;
  decision_text_.clear();
  decision_text_.reserve(80);  // room for the usual text: one allocation, not two and a copy
  append_decision_text(decision_, pick_, decision_text_);
  outcome_.target = pick_.target;
  outcome_.endpoint = pick_.endpoint;
  in_flight_ = InFlight(*pick_.endpoint);
  expect_first_byte();
  if (auto idle = Upstreams::take(worker_, pick_.endpoint->address)) {
    upstream_ = std::move(idle);
    return do_write_request();
  }
  do_connect();
}

// duet predicts TTFT from the engine's own first bytes: this request's uncached prompt
// tokens wait in its endpoint's pending work until the first byte (ttft_model.h).
template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::expect_first_byte() {
  if (decision_.route->spec.scheduling.policy != api::SchedulingPolicy::duet) return;
  prefill_ = PendingPrefill(pick_.endpoint->load->ttft, pick_.why.uncached_tokens, EventClock::now());
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::do_connect() {
  upstream_ = Upstreams::open(worker_);
  upstream_->peer = pick_.endpoint->address;
  upstream_->buffer.reserve(kReadSize);  // a response header and a body in one read
  upstream_->stream.expires_after(std::min<std::chrono::steady_clock::duration>(
      kConnectTimeout, decision_.route->spec.first_byte_timeout));
  upstream_->stream.async_connect(
      upstream_->peer,
      beast::bind_front_handler(&UpstreamRelay::on_connect, this->shared_from_this()));
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::on_connect(beast::error_code ec) {
  if (ec) return upstream_failed(ec, "connect");
  upstream_->stream.prepare();
  do_write_request();
}

// The request usually fits the socket buffer: written now, it needs no handler round trip.
template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::do_write_request() {
  wire_.clear();
  append_upstream_request(wire_, request_, peer_.ip, peer_.trusted_proxy);
  upstream_->stream.expires_after(decision_.route->spec.first_byte_timeout);
  beast::error_code ec;
  std::size_t n = upstream_->stream.write_now(boost::asio::buffer(wire_), ec);
  if (ec) return upstream_failed(ec, "write request");
  if (n == wire_.size()) return await_response();
  boost::asio::async_write(
      upstream_->stream, boost::asio::buffer(wire_) + n,
      beast::bind_front_handler(&UpstreamRelay::on_write_request, this->shared_from_this()));
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::on_write_request(beast::error_code ec, std::size_t) {
  if (ec) return upstream_failed(ec, "write request");
  await_response();
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::await_response() {
  // The request is out: wire_ from here on holds only bytes for the client (a header that
  // came in several reads must not find the request still there and send it to the client).
  wire_.clear();
  new_response_parser();
  header_read_ = false;
  upstream_->buffer.clear();
  wait_for_engine();
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::new_response_parser() {
  parser_.emplace(kUpstreamHeaderLimit, request_.method() == http::verb::head);
}

// One async_read_some: right after the request went out, the socket's last read drained it,
// so the read waits for the next edge without trying recv (edge_reactor.h).
template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::wait_for_engine() {
  upstream_->stream.async_read_some(
      upstream_->buffer.prepare(kReadSize),
      beast::bind_front_handler(&UpstreamRelay::on_engine_read, this->shared_from_this()));
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::on_engine_read(beast::error_code ec, std::size_t n) {
  upstream_->buffer.commit(n);
  if (ec == boost::asio::error::eof) {
    // The end of a body that runs until the engine closes; anywhere else, a cut response.
    if (!parser_->got_some()) return response_failed(http::error::end_of_stream);
    ec = {};
    parser_->put_eof(ec);
    if (ec) return response_failed(ec);
    return pass_on(0);
  }
  if (ec) return response_failed(ec);
  parse_response();
}

// Decodes what is buffered: the header once it is whole, body bytes into the worker's
// body_piece, which is passed on at once. Reads more when what came was only framing (a
// chunk header) or a part of one. Once the header is parsed the response has started, even
// when the body that came with it turns out bad: no retry, as for a body that fails later.
template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::parse_response() {
  std::string& piece = worker_.body_piece;
  piece.clear();
  beast::error_code ec;
  put_buffered(piece, ec);
  if (!ec && !header_read_ && parser_->is_header_done()) {
    // Any three digits are a status; one under 100 (`004`) has no class to relay as.
    if (parser_->get().result_int() < 100) return response_failed(http::error::bad_status);
    if (parser_->get().result_int() / 100 == 1) return skip_interim();
    // The client has its header: only a 200 stream can go on it. A 4xx is the continuation's
    // own fault (too long for the engine, a field it refuses): another engine of the same
    // deployment would refuse it too, and this one is not sick.
    if (continuing_ && parser_->get().result_int() / 100 == 4) {
      std::string why = "the engine refused the continuation (" + std::to_string(parser_->get().result_int()) + ")";
      return close_client(splicer_->give_up(why), "migration: " + why);
    }
    if (continuing_ && parser_->get().result_int() != 200) return migrate(Failure::status_5xx);
    start_response();
    if (!parser_->is_done() && upstream_->buffer.size() > 0) put_buffered(piece, ec);
  }
  if (ec) {
    if (wire_.empty()) return response_failed(ec);
    failure_ = ec;  // the header that came with it goes out first
    return do_write_client();
  }
  if (piece.size() > 0 || parser_->is_done()) return pass_on(piece.size());
  if (!wire_.empty()) return do_write_client();  // a stream's header, alone
  read_more();
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::put_buffered(std::string& body, beast::error_code& ec) {
  upstream_->buffer.consume(parser_->put(bytes_of(upstream_->buffer.data()), body, ec));
}

// A 1xx (103 Early Hints, 100 Continue) is not the answer: the parser ends the message at its
// header, so a fresh parser reads on to the final response. Taken as final, it let
// the real answer wait on the pooled connection for the next client. The first-byte
// deadline, set with the request, still bounds an engine that sends only 1xx. A 101 would
// turn the connection into another protocol that the client never asked for.
template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::skip_interim() {
  if (parser_->get().result_int() == 101) {
    router_logger().warn("upstream_protocol_error", {{"backend", pick_.endpoint->backend},
                                                     {"error", "101 Switching Protocols"}});
    return finish(502, "engine " + pick_.endpoint->backend +
                           " answered 101 Switching Protocols to a plain request");
  }
  new_response_parser();
  if (upstream_->buffer.size() > 0) return parse_response();
  wait_for_engine();
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::read_more() {
  // The body's pace is the engine's: each wait for a piece gets the route's idle limit
  // (the header's wait has the first-byte limit, set with the request).
  if (header_read_)
    upstream_->stream.expires_after(decision_.route->spec.idle_timeout);
  wait_for_engine();
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::response_failed(beast::error_code ec) {
  if (!header_read_) return upstream_failed(ec, "read response header");
  if (upstream_->stream.expired()) ec = beast::error::timeout;
  if (splicer_ && !cancelled_) {  // cut, reset or silent past idleSeconds: the next engine
    router_logger().warn("upstream_stream_failed", {{"backend", pick_.endpoint->backend}, {"error", ec.message()}});
    return migrate(Failure::connection);
  }
  // The header is gone already: the client can only learn by the connection closing.
  outcome_.client_reusable = false;
  finish(outcome_.status, cancelled_ ? "client went away" : "upstream body: " + ec.message());
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::start_response() {
  header_read_ = true;
  if (continuing_) {  // the client has the first engine's header; this one's goes nowhere
    report_success(*pick_.endpoint);
    return;
  }
  // From here on the response belongs to the client: no retry (SPEC §5 step 7).
  last_piece_ = EventClock::now();
  outcome_.first_byte = last_piece_ - started_;
  outcome_.response_started = true;
  outcome_.status = parser_->get().result_int();
  if (outcome_.status >= 500)
    eject_if_failing(Failure::status_5xx);
  else
    report_success(*pick_.endpoint);
  // A HEAD answer, a 204 or a 304 has a header only, whatever it says of a body (1xx never
  // get here: skip_interim).
  int status = outcome_.status;
  bool bodyless = request_.method() == http::verb::head || status == 204 || status == 304;
  // Only a stream can be spliced; an error answer passes as it is.
  if (splicer_ && status != 200) splicer_.reset();
  EngineFraming engine{parser_->chunked() || splicer_,
                       !bodyless && !parser_->chunked() && !parser_->content_length() && !splicer_};
  // The body (or its first piece) that came in with the header goes in the same write.
  wire_.clear();
  ClientFraming client = append_client_response_head(
      wire_, parser_->get(), engine, client_version_,
      client_keep_alive_ && !worker_.draining,  // a draining router says it closes
      {decision_.route->spec.name(), pick_.endpoint->backend, to_string(pick_.target->track), decision_text_});
  outcome_.client_reusable = client.keep_alive;
  client_chunked_ = client.chunked && !bodyless;
}

// Before the response header: another endpoint may still answer. An idle keep-alive
// connection that fails is most likely one the engine just closed: one more try on a
// fresh connection to the same endpoint does not count as an attempt.
template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::upstream_failed(beast::error_code ec, const char* stage) {
  if (upstream_ && upstream_->stream.expired()) ec = beast::error::timeout;
  in_flight_.release();
  prefill_.release();  // a failure teaches nothing of its speed
  bool was_reused = upstream_ && upstream_->reused;
  upstream_.reset();
  if (cancelled_) return finish(499, "client went away");
  if (was_reused && !fresh_retry_used_ && ec != beast::error::timeout) {
    fresh_retry_used_ = true;
    in_flight_ = InFlight(*pick_.endpoint);
    expect_first_byte();
    return do_connect();
  }
  router_logger().warn("upstream_failed", {{"backend", pick_.endpoint->backend},
                                           {"endpoint", pick_.endpoint->address_text},
                                           {"stage", stage},
                                           {"error", ec.message()},
                                           {"attempt", outcome_.attempts}});
  // A continuation that could not even start: one more failed engine, the next one continues.
  if (continuing_) return migrate(Failure::connection);
  eject_if_failing(Failure::connection);
  outcome_.error = std::string(stage) + " " + pick_.endpoint->backend + ": " + ec.message();
  if (tried_count_ < tried_.size()) tried_[tried_count_++] = pick_.endpoint;
  if (outcome_.attempts < decision_.route->spec.retry_attempts && tried_count_ < tried_.size())
    return try_next();
  finish(ec == beast::error::timeout ? 504 : 502, std::move(outcome_.error));
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::eject_if_failing(Failure failure) {
  const Pool& pool = pick_.target->deployment->pool(pick_.target->track);
  if (!report_failure(pool, *pick_.endpoint, failure, EventClock::now())) return;
  worker_.stats.count_ejection();
  router_logger().warn("endpoint_ejected",
                       {{"backend", pick_.endpoint->backend},
                        {"endpoint", pick_.endpoint->address_text},
                        {"why", failure == Failure::connection ? "connection" : "5xx"},
                        {"ejections", pick_.endpoint->load->ejections.load()}});
}

// First byte: the first body piece (a stream's first token), not the header that engines
// send at once. Then the gap before each later piece (the inter-token latency users see).
template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::note_body_piece() {
  auto now = EventClock::now();
  if (outcome_.bytes == 0) {
    outcome_.first_byte = now - started_;
    if (outcome_.status < 400)
      prefill_.first_byte(now);
    else
      prefill_.release();  // an error answers at once, whatever the prompt
  } else
    outcome_.chunk_gaps.observe(to_seconds(now - last_piece_));
  last_piece_ = now;
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::pass_on(std::size_t n) {
  if (n) note_body_piece();
  outcome_.bytes += n;
  std::string_view piece(worker_.body_piece.data(), n);
  if (splicer_) return pass_on_spliced(piece);
  if (client_chunked_)
    append_chunk(wire_, piece);
  else
    wire_ += piece;
  if (client_chunked_ && parser_->is_done()) wire_ += kLastChunk;
  do_write_client();
}

// A plain client's socket usually takes the piece at once; a TLS stream always goes
// through its handler. Every kMaxWritesNow-th write goes through it anyway, so that an
// engine streaming faster than anyone waits does not grow the stack without end.
template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::do_write_client() {
  if (wire_.empty()) return on_write_client({}, 0);  // the end of a body read until close
  auto& client = beast::get_lowest_layer(client_);
  client.expires_after(decision_.route->spec.idle_timeout);
  std::size_t written = 0;
  if constexpr (std::is_same_v<Stream, PlainStream>) {
    if (++writes_now_ < kMaxWritesNow) {
      beast::error_code ec;
      written = client.write_now(boost::asio::buffer(wire_), ec);
      if (ec || written == wire_.size()) return on_write_client(ec, written);
    }
    writes_now_ = 0;
  }
  boost::asio::async_write(
      client_, boost::asio::buffer(wire_) + written,
      beast::bind_front_handler(&UpstreamRelay::on_write_client, this->shared_from_this()));
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::on_write_client(beast::error_code ec, std::size_t) {
  if (ec) {
    outcome_.client_reusable = false;
    return finish(outcome_.status, "client went away: " + ec.message());
  }
  wire_.clear();
  if (closing_) return finish(outcome_.status, std::move(closing_error_));
  if (migrate_pending_) {
    migrate_pending_ = false;
    return migrate(Failure::connection);
  }
  if (failure_) return response_failed(failure_);
  if (parser_->is_done()) return complete();
  // Waiting for the engine's next piece is the upstream's limit, not the client's.
  beast::get_lowest_layer(client_).expires_never();
  read_more();  // the body took all that was buffered
}

// The whole response reached the client: the engine connection serves the next request
// only if the engine allows it, its answer was parsed to the end and nothing else came:
// bytes left over would be read as the next client's answer.
template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::complete() {
  const ResponseHead& head = parser_->get();
  if (parser_->is_done() && keeps_alive(head.fields(), head.version()) &&
      upstream_->buffer.size() == 0 && !cancelled_)
    Upstreams::put(worker_, std::move(upstream_));
  finish(outcome_.status, {});
}

// The engine's piece through the splicer: whole events reach the client, rewritten. A failure
// it sees (an error event, [DONE] without finish_reason, "abort", garbage) or a body that
// ended short moves the stream once what came before is written.
template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::pass_on_spliced(std::string_view piece) {
  std::string out = splicer_->feed(piece);
  if (seam_from_ && !out.empty()) {
    // The seam as the client sees it: from the last piece before the failure to this one.
    router_logger().info("stream_resumed", {{"backend", pick_.endpoint->backend},
                                            {"gap_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                                           EventClock::now() - *seam_from_).count()}});
    seam_from_.reset();
  }
  if (splicer_->stopped() && !parser_->is_done()) return close_client(out, {});
  if (parser_->is_done() && splicer_->failure() == StreamFailure::none && splicer_->end() == StreamFailure::none &&
      !splicer_->closed())
    out += splicer_->close_whole();  // the finish_reason came, [DONE] did not: it is whole
  migrate_pending_ = splicer_->failure() != StreamFailure::none;
  if (!out.empty()) {
    if (client_chunked_) append_chunk(wire_, out);
    else wire_ += out;
  }
  if (!migrate_pending_ && client_chunked_ && parser_->is_done()) wire_ += kLastChunk;
  do_write_client();
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::migrate(Failure engine_failure) {
  eject_if_failing(engine_failure);
  splicer_->end();  // a failure the splicer did not see itself is a cut
  if (cancelled_) return finish(499, "client went away");
  in_flight_.release();
  prefill_.release();
  upstream_.reset();  // the failed engine's connection is closed, never pooled
  failure_ = {};
  if (tried_count_ < tried_.size() && (tried_count_ == 0 || tried_[tried_count_ - 1] != pick_.endpoint))
    tried_[tried_count_++] = pick_.endpoint;
  StreamFailure failure = splicer_->failure();
  auto next = splicer_->after_failure();
  if (auto* close = std::get_if<StreamSplicer::Close>(&next))
    return close_client(close->events, close->whole ? std::string() : "migration: " + close->why);
  auto& resume = std::get<StreamSplicer::Resume>(next);
  router_logger().warn("stream_migrating", {{"backend", pick_.endpoint->backend},
                                            {"failure", std::string(to_string(failure))},
                                            {"mode", std::string(to_string(resume.mode))},
                                            {"migration", splicer_->migrations()},
                                            {"tokens", splicer_->output_tokens()},
                                            {"resent_tokens", splicer_->resent_tokens()}});
  worker_.stats.count_migration(failure, resume.mode, splicer_->resent_tokens());
  seam_from_ = last_piece_;
  request_.body() = std::move(resume.body);
  request_.target(resume.mode == StreamSplicer::Mode::exact ? std::string_view("/v1/completions") : client_target_);
  if (!continuing_) continuing_from_ = *pick_.target;
  continuing_ = true;
  fresh_retry_used_ = false;
  if (tried_count_ >= tried_.size()) {
    std::string why = "every endpoint it may try has failed";
    return close_client(splicer_->give_up(why), "migration: " + why);
  }
  ready_deadline_ = EventClock::now() + decision_.route->spec.migration.ready_wait;
  aim_continuation();
  try_next();
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::aim_continuation() {
  // tried_ points into the table before: it lives until they are found in the newest.
  auto before = std::exchange(newest_table_, worker_.table);
  decision_ = continuation(decision_, continuing_from_, *newest_table_);
  std::array<const Endpoint*, 8> failed{};
  tried_count_ = same_endpoints(decision_, {tried_.data(), tried_count_}, failed);
  tried_ = failed;
  pick_.target = &decision_.targets[0];
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::wait_for_ready() {
  auto now = EventClock::now();
  if (now >= ready_deadline_) {
    std::string why = "no other Ready endpoint";
    return close_client(splicer_->give_up(why), "migration: " + why);
  }
  if (!ready_timer_) ready_timer_.emplace(worker_.io);
  ready_timer_->expires_after(std::min<std::chrono::steady_clock::duration>(kReadyPoll, ready_deadline_ - now));
  ready_timer_->async_wait([self = this->shared_from_this()](beast::error_code) {
    if (self->cancelled_) return self->finish(499, "client went away");
    self->aim_continuation();
    self->try_next();
  });
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::close_client(std::string_view events, std::string error) {
  in_flight_.release();
  upstream_.reset();
  wire_.clear();
  if (client_chunked_) {
    append_chunk(wire_, events);
    wire_ += kLastChunk;
  } else {
    wire_ += events;
    outcome_.client_reusable = false;  // its end is the connection's
  }
  closing_ = true;
  closing_error_ = std::move(error);
  do_write_client();
}

template <class Stream, class Upstreams>
void UpstreamRelay<Stream, Upstreams>::finish(int status, std::string error) {
  if (finished_) return;
  finished_ = true;
  if (splicer_) outcome_.migrations = splicer_->migrations();
  worker_.stats.leave();
  in_flight_.release();
  prefill_.release();
  upstream_.reset();  // a connection not given back to the pool is closed here
  if (outcome_.endpoint) {
    outcome_.decision = std::move(decision_text_);
    outcome_.why = pick_.why;
  }
  outcome_.status = status;
  outcome_.error = std::move(error);
  auto done = std::move(done_);
  done(std::move(outcome_));
}

}  // namespace duet::router
