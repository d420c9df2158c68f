#pragma once
// Reads a message head off the bytes of a connection, for RequestParser and ResponseParser:
// waits until the head's empty line is there, checking each line as it comes (RFC 9112
// §2–5, strictly: CRLF line ends, no folded or unnamed fields, no control characters in a
// value, Connection a token list, one Content-Length value and never with Transfer-Encoding),
// then copies the head into a MessageHead. Each line's end is found with memchr, and a field
// becomes a view, not a node of its own: Beast's parser took a third of a proxied request's
// instructions, walking the header a byte at a time (bench/README.md).
//
// The head is held to `max_header_bytes` (http::error::header_limit), the same whatever way
// TCP split it; a malformed one gets an HttpParseError (http_parse_error.h).

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/container/small_vector.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "router/http_parse_error.h"
#include "router/message_head.h"

namespace duet::router {

class HeadParser {
 public:
  explicit HeadParser(std::size_t max_header_bytes) : max_header_bytes_(max_header_bytes) {}

  // Takes nothing until the head's empty line is there, each call until then getting the
  // bytes of the one before, and more; then returns the head's size. The start line goes to
  // `start_line(line, ec)` (without its CRLF) as soon as it is whole.
  template <class StartLine>
  std::size_t put(std::string_view input, StartLine&& start_line, boost::system::error_code& ec);

  // Copies the head, the bytes put() took, into `message` with its fields; returns where its
  // bytes are now, for the views of the start line.
  const char* build(std::string_view head, unsigned version, MessageHead& message) const;

  std::optional<std::uint64_t> content_length() const noexcept { return content_length_; }
  // The last coding of Transfer-Encoding is chunked: the body comes in chunks.
  bool chunked() const noexcept { return chunked_; }

 private:
  // Where in the head a field's name and value are, until the head is copied.
  struct FieldSpan {
    boost::beast::http::field name;
    std::uint32_t name_begin, name_size, value_begin, value_size;
  };

  void parse_field_line(std::string_view head, std::size_t begin, std::size_t end,
                        boost::system::error_code& ec);

  std::size_t max_header_bytes_;
  // How far the bytes were searched for line ends, and where the line being read begins.
  std::size_t scanned_ = 0;
  std::size_t line_begin_ = 0;
  boost::container::small_vector<FieldSpan, 24> fields_;  // no allocation for most heads
  std::optional<std::uint64_t> content_length_;
  bool transfer_encoding_ = false;
  bool chunked_ = false;
};

template <class StartLine>
std::size_t HeadParser::put(std::string_view input, StartLine&& start_line,
                            boost::system::error_code& ec) {
  ec = {};
  // Only the first max_header_bytes can hold the head's end: what is past them is not read.
  const std::size_t window = std::min(input.size(), max_header_bytes_);
  const char* base = input.data();
  while (scanned_ < window) {
    const auto* lf =
        static_cast<const char*>(std::memchr(base + scanned_, '\n', window - scanned_));
    if (!lf) {
      scanned_ = window;
      break;
    }
    const std::size_t at = static_cast<std::size_t>(lf - base);
    scanned_ = at + 1;
    if (at == line_begin_ || base[at - 1] != '\r') {
      ec = HttpParseError::bad_line_ending;
      return 0;
    }
    const std::size_t line_end = at - 1;
    if (line_begin_ == 0) {
      start_line(input.substr(0, line_end), ec);
    } else if (line_end == line_begin_) {  // the empty line: the head ends here
      if (content_length_ && transfer_encoding_) {
        ec = HttpParseError::length_and_chunked;
        return 0;
      }
      return at + 1;
    } else {
      parse_field_line(input, line_begin_, line_end, ec);
    }
    if (ec) return 0;
    line_begin_ = at + 1;
  }
  if (input.size() >= max_header_bytes_) ec = boost::beast::http::error::header_limit;
  return 0;
}

}  // namespace duet::router
