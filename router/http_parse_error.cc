#include "router/http_parse_error.h"

#include <string>

namespace duet::router {

namespace {

class HttpParseCategory : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "duet.http"; }

  std::string message(int code) const override {
    switch (static_cast<HttpParseError>(code)) {
      case HttpParseError::bad_line_ending:
        return "a line of the header does not end with CRLF";
      case HttpParseError::bad_method:
        return "the method is not a token";
      case HttpParseError::bad_target:
        return "the request target is empty or holds a space, a control character or a non-ASCII "
               "byte";
      case HttpParseError::bad_version:
        return "the request line does not end with HTTP/1.0 or HTTP/1.1";
      case HttpParseError::bad_status_line:
        return "the status line is not HTTP/1.0 or HTTP/1.1, a three-digit status and a reason";
      case HttpParseError::bad_field_name:
        return "a header field's name is not a token followed by a colon";
      case HttpParseError::folded_field:
        return "a header field is folded over two lines (obs-fold, RFC 9112 section 5.2)";
      case HttpParseError::bad_field_value:
        return "a header field's value holds a control character";
      case HttpParseError::bad_connection:
        return "Connection (or Proxy-Connection) is not a list of tokens separated by commas";
      case HttpParseError::bad_content_length:
        return "Content-Length is not a decimal number, or given twice with different values";
      case HttpParseError::bad_transfer_encoding:
        return "Transfer-Encoding is not a list of codings with chunked, if there, once and last";
      case HttpParseError::length_and_chunked:
        return "Content-Length and Transfer-Encoding are both given";
      case HttpParseError::bad_chunk_size:
        return "a chunk's size is not a hexadecimal number";
      case HttpParseError::bad_chunk_extension:
        return "a chunk's extension holds a control character";
      case HttpParseError::bad_chunk_end:
        return "a chunk's data does not end with CRLF";
      case HttpParseError::bad_trailer:
        return "a trailer field is not a name, a colon and a value on a line ending with CRLF";
    }
    return "malformed HTTP message";
  }
};

}  // namespace

const boost::system::error_category& http_parse_category() noexcept {
  static const HttpParseCategory category;
  return category;
}

}  // namespace duet::router
