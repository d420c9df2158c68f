#pragma once
// Reads a client's request off the bytes of its connection, as they come: the head once it is
// all there (RFC 9112 §2–5, strictly: CRLF line ends, no folded or unnamed fields, no control
// characters), then the body, of its Content-Length or chunked. duet-router's own parser:
// Beast's took a third of a proxied request's instructions, walking the header a byte at a
// time and allocating a node per field (bench/README.md).
//
// Limits, each the same whatever way TCP split the bytes: the head to `max_header_bytes`
// (http::error::header_limit), the body to `max_body_bytes` (http::error::body_limit, on the
// header when its Content-Length says so), a chunk's size line and the trailer section to
// `max_header_bytes` each (http::error::buffer_overflow). Malformed input gets an
// HttpParseError (http_parse_error.h).

#include <boost/beast/http/field.hpp>
#include <boost/container/small_vector.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "router/chunked_decoder.h"
#include "router/proxy_request.h"

namespace duet::router {

class RequestParser {
 public:
  RequestParser(std::size_t max_header_bytes, std::uint64_t max_body_bytes);

  // Takes bytes from the front of `input`: nothing until the whole head is there (each call
  // until then gets the bytes of the one before, and more), then the head alone, then body
  // and chunk framing, all that is there. 0 without an error: more is needed.
  std::size_t put(std::string_view input, boost::system::error_code& ec);
  // The client ended its side: partial_message unless the request is done.
  void put_eof(boost::system::error_code& ec);

  bool got_some() const noexcept { return got_some_; }
  bool is_header_done() const noexcept { return header_done_; }
  bool is_done() const noexcept { return done_; }
  bool chunked() const noexcept { return chunked_; }
  std::optional<std::uint64_t> content_length() const noexcept { return content_length_; }

  ProxyRequest& get() noexcept { return request_; }
  const ProxyRequest& get() const noexcept { return request_; }
  ProxyRequest release() { return std::move(request_); }

 private:
  // Where in the head a field's name and value are, until the head is copied.
  struct FieldSpan {
    boost::beast::http::field name;
    std::uint32_t name_begin, name_size, value_begin, value_size;
  };

  std::size_t put_head(std::string_view input, boost::system::error_code& ec);
  std::size_t put_body(std::string_view input, boost::system::error_code& ec);
  void parse_request_line(std::string_view line, boost::system::error_code& ec);
  void parse_field_line(std::string_view head, std::size_t begin, std::size_t end,
                        boost::system::error_code& ec);
  void finish_head(std::string_view head, boost::system::error_code& ec);

  std::size_t max_header_bytes_;
  std::uint64_t max_body_bytes_;
  ProxyRequest request_;
  // While the head comes: how far it was searched for line ends, and where the line begins.
  std::size_t scanned_ = 0;
  std::size_t line_begin_ = 0;
  std::size_t method_size_ = 0, target_begin_ = 0, target_size_ = 0;
  boost::container::small_vector<FieldSpan, 24> fields_;  // no allocation for most heads
  std::optional<std::uint64_t> content_length_;
  bool transfer_encoding_ = false;
  bool chunked_ = false;
  std::uint64_t body_left_ = 0;  // of a Content-Length
  std::optional<ChunkedDecoder> chunks_;
  bool got_some_ = false;
  bool header_done_ = false;
  bool done_ = false;
};

}  // namespace duet::router
