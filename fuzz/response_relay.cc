#include "response_relay.h"

#include <boost/beast/http/error.hpp>
#include <optional>

#include "byte_stream.h"
#include "router/field_scan.h"
#include "router/response_parser.h"
#include "router/wire_format.h"

namespace duet::fuzz {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::size_t kUpstreamHeaderLimit = 64 * 1024;  // as upstream_relay.h

// One relay, as a loop of the steps the real one chains through handlers.
class Relay {
 public:
  Relay(std::string_view bytes, const RelayContext& context)
      : context_(context), engine_(bytes, context.cuts) {
    new_response_parser();
  }

  RelayRun run() {
    Step next = Step::read;
    while (next != Step::done) next = next == Step::read ? on_engine_read() : parse_response();
    return std::move(out_);
  }

 private:
  enum class Step { read, parse, done };

  void new_response_parser() { parser_.emplace(kUpstreamHeaderLimit, context_.head_request); }

  Step on_engine_read() {
    if (engine_.read()) return Step::parse;
    // The end of a body that runs until the engine closes; anywhere else, a cut response.
    if (!parser_->got_some()) return failed(http::error::end_of_stream);
    beast::error_code ec;
    parser_->put_eof(ec);
    if (ec) return failed(ec);
    return pass_on(0);
  }

  Step parse_response() {
    piece_.clear();
    beast::error_code ec;
    put_buffered(ec);
    if (!ec && !out_.response_started && parser_->is_header_done()) {
      if (parser_->get().result_int() < 100) return failed(http::error::bad_status);
      if (parser_->get().result_int() / 100 == 1) return skip_interim();
      start_response();
      if (!parser_->is_done() && engine_.buffer().size() > 0) put_buffered(ec);
    }
    if (ec) {
      out_.client_wire += wire_;  // the header that came with the bad body goes out first
      wire_.clear();
      return failed(ec);
    }
    if (piece_.size() > 0 || parser_->is_done()) return pass_on(piece_.size());
    if (!wire_.empty()) return write_client();  // a stream's header, alone
    return Step::read;
  }

  void put_buffered(beast::error_code& ec) {
    engine_.buffer().consume(parser_->put(router::bytes_of(engine_.buffer().data()), piece_, ec));
  }

  // A 1xx is not the answer: a fresh parser reads on to the final one. A 101 ends the relay.
  Step skip_interim() {
    if (parser_->get().result_int() == 101) {
      out_.error = "101 Switching Protocols";
      return Step::done;
    }
    ++out_.interim;
    new_response_parser();
    if (engine_.buffer().size() > 0) return Step::parse;
    return Step::read;
  }

  void start_response() {
    out_.response_started = true;
    const auto& header = parser_->get();
    out_.status = header.result_int();
    out_.reason = std::string(header.reason());
    out_.engine_fields = fields_of(header.fields());
    int status = out_.status;
    bool bodyless = context_.head_request || status == 204 || status == 304;
    out_.engine = {parser_->chunked(),
                   !bodyless && !parser_->chunked() && !parser_->content_length()};
    wire_.clear();
    out_.client = router::append_client_response_head(wire_, header, out_.engine,
                                                      context_.client_version,
                                                      context_.client_keep_alive, kServedBy);
    client_chunked_ = out_.client.chunked && !bodyless;
  }

  Step pass_on(std::size_t n) {
    std::string_view piece(piece_.data(), n);
    out_.body += piece;
    if (client_chunked_)
      router::append_chunk(wire_, piece);
    else
      wire_ += piece;
    if (client_chunked_ && parser_->is_done()) wire_ += router::kLastChunk;
    return write_client();
  }

  Step write_client() {
    out_.client_wire += wire_;
    wire_.clear();
    if (parser_->is_done()) return complete();
    return Step::read;  // the body took all that was buffered
  }

  Step complete() {
    const auto& head = parser_->get();
    out_.pooled = parser_->is_done() && router::keeps_alive(head.fields(), head.version()) &&
                  engine_.buffer().size() == 0;
    return Step::done;
  }

  Step failed(beast::error_code ec) {
    out_.error = ec.message();
    out_.client.keep_alive = false;  // the client can only learn by the connection closing
    return Step::done;
  }

  RelayContext context_;
  ByteStream engine_;
  std::optional<router::ResponseParser> parser_;
  std::string piece_;  // the worker's body_piece
  std::string wire_;
  bool client_chunked_ = false;
  RelayRun out_;
};

}  // namespace

bool RelayRun::same_outcome(const RelayRun& o) const {
  return response_started == o.response_started && error == o.error && status == o.status &&
         interim == o.interim && reason == o.reason && engine_fields == o.engine_fields &&
         engine.chunked == o.engine.chunked && engine.until_eof == o.engine.until_eof &&
         client.chunked == o.client.chunked && client.keep_alive == o.client.keep_alive &&
         body == o.body;
}

std::string RelayRun::describe() const {
  return "started=" + std::to_string(response_started) + " interim=" + std::to_string(interim) +
         " error=\"" + error + "\" status=" + std::to_string(status) + " fields=[" +
         to_text(engine_fields) + "] engine_chunked=" + std::to_string(engine.chunked) +
         " until_eof=" + std::to_string(engine.until_eof) +
         " client_chunked=" + std::to_string(client.chunked) +
         " client_keep_alive=" + std::to_string(client.keep_alive) +
         " body_size=" + std::to_string(body.size()) + " pooled=" + std::to_string(pooled);
}

RelayRun relay_response(std::string_view engine_bytes, const RelayContext& context) {
  return Relay(engine_bytes, context).run();
}

}  // namespace duet::fuzz
