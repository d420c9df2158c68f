#include "request_reader.h"

#include <boost/beast/http/error.hpp>

#include "byte_stream.h"
#include "router/field_scan.h"
#include "router/request_framing.h"
#include "router/request_parser.h"

namespace duet::fuzz {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

using Parser = router::RequestParser;

// ProxySession::read_request: parse what is buffered, read only when the parser needs more,
// until the header (`body` false) or the whole request is done.
beast::error_code read_part(Parser& parser, ByteStream& c, bool body) {
  for (;;) {
    while (c.buffer().size() > 0) {
      beast::error_code ec;
      std::size_t used = parser.put(router::bytes_of(c.buffer().data()), ec);
      c.buffer().consume(used);
      bool part_read = body ? parser.is_done() : parser.is_header_done();
      if (ec || part_read) return ec;
      if (used == 0) break;
    }
    if (!c.read()) {
      // Nothing yet is the end of the connection, a part is a cut request.
      if (!parser.got_some()) return http::error::end_of_stream;
      beast::error_code ec;
      parser.put_eof(ec);
      return ec;
    }
  }
}

void take_header(const Parser& parser, ReadRequest& r) {
  const auto& h = parser.get();
  r.header_done = true;
  r.method = std::string(h.method_string());
  r.target = std::string(h.target());
  r.version = h.version();
  r.header_fields = fields_of(h.fields());
  r.chunked = parser.chunked();
  if (auto length = parser.content_length()) r.content_length = *length;
}

}  // namespace

bool ReadRequest::same_as(const ReadRequest& o) const {
  return error == o.error && header_done == o.header_done && raw_head == o.raw_head &&
         method == o.method && target == o.target && version == o.version &&
         header_fields == o.header_fields && fields == o.fields && chunked == o.chunked &&
         content_length == o.content_length && keep_alive == o.keep_alive && body == o.body;
}

std::string ReadRequest::describe() const {
  std::string out =
      "error=\"" + error + "\" header_done=" + std::to_string(header_done) + " method=" + method +
      " target=" + target + " version=" + std::to_string(version) + " fields=[" + to_text(fields) +
      "] chunked=" + std::to_string(chunked) + " keep_alive=" + std::to_string(keep_alive) +
      " body_size=" + std::to_string(body.size());
  return out;
}

std::vector<ReadRequest> read_requests(std::string_view bytes, const router::Limits& limits,
                                       const std::vector<std::size_t>& cuts) {
  ByteStream c(bytes, cuts);
  std::vector<ReadRequest> out;
  for (;;) {
    Parser parser(limits.max_header_bytes, limits.max_body_bytes);  // do_read_header
    ReadRequest r;
    std::size_t start = c.position();
    beast::error_code ec = read_part(parser, c, false);
    if (ec == http::error::end_of_stream) return out;  // closed between requests
    if (!ec && parser.is_header_done()) {
      take_header(parser, r);
      r.raw_head = std::string(bytes.substr(start, c.position() - start));
      // check_header: the framing first (the access check and the budget are not modelled)
      if (auto bad = router::check_request_framing(parser.get(), parser.chunked())) {
        r.error = std::to_string(bad->status) + " " + bad->message;
        out.push_back(std::move(r));
        return out;
      }
      if (!parser.is_done()) ec = read_part(parser, c, true);
    }
    if (ec) {
      r.error = ec.message();
      out.push_back(std::move(r));
      return out;  // a reply (400, 413, 431) or nothing, then the connection closes
    }
    r.fields = fields_of(parser.get().fields());
    r.body = parser.get().body();
    r.keep_alive = router::keeps_alive(parser.get().fields(), parser.get().version());
    r.message = parser.release();
    bool keep_alive = r.keep_alive;
    out.push_back(std::move(r));
    if (!keep_alive) return out;
  }
}

}  // namespace duet::fuzz
