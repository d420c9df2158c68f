#pragma once
// Reads a client's request off the bytes of its connection, as they come: the head once it is
// all there (head_parser.h), then the body, of its Content-Length or chunked (body_reader.h).
//
// Limits, each the same whatever way TCP split the bytes: the head to `max_header_bytes`
// (http::error::header_limit), the body to `max_body_bytes` (http::error::body_limit, on the
// header when its Content-Length says so), a chunk's size line and the trailer section to
// `max_header_bytes` each (http::error::buffer_overflow). Malformed input gets an
// HttpParseError (http_parse_error.h).

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "router/message_parser.h"
#include "router/proxy_request.h"

namespace duet::router {

class RequestParser : public MessageParser {
 public:
  RequestParser(std::size_t max_header_bytes, std::uint64_t max_body_bytes)
      : MessageParser(max_header_bytes), max_body_bytes_(max_body_bytes) {}

  // Takes bytes from the front of `input`: nothing until the whole head is there (each call
  // until then gets the bytes of the one before, and more), then the head alone, then body
  // and chunk framing, all that is there. 0 without an error: more is needed.
  std::size_t put(std::string_view input, boost::system::error_code& ec);

  ProxyRequest& get() noexcept { return request_; }
  const ProxyRequest& get() const noexcept { return request_; }
  ProxyRequest release() { return std::move(request_); }

 private:
  std::size_t put_head(std::string_view input, boost::system::error_code& ec);
  void parse_request_line(std::string_view line, boost::system::error_code& ec);

  std::uint64_t max_body_bytes_;
  ProxyRequest request_;
  std::size_t method_size_ = 0, target_begin_ = 0, target_size_ = 0;
  unsigned version_ = 11;
};

}  // namespace duet::router
