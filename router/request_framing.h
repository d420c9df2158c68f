#pragma once
// What the router accepts as the framing of a client's request, beyond what Beast's parser
// checks (RFC 9112 §6): a Transfer-Encoding that is exactly `chunked`, and no trailer field
// reaching the engine. Beast takes any coding list not ending in chunked as "no body", so
// the body would be read as the next request: a smuggled one.

#include <boost/beast/http/message.hpp>
#include <optional>
#include <string>
#include <vector>

namespace duet::router {

struct FramingError {
  int status;  // 400, or 501 for a coding the router does not decode
  std::string message;
};

// `chunked` is the parser's verdict on the same header. One field lookup when there is no
// Transfer-Encoding.
std::optional<FramingError> check_request_framing(
    const boost::beast::http::request_header<>& header, bool chunked);

// The fields of a chunked request's header, in order: Beast's parser adds the trailer's
// fields to the header's, next to those of the same name.
using HeaderFields = std::vector<const boost::beast::http::fields::value_type*>;
void note_header_fields(const boost::beast::http::fields& fields, HeaderFields& out);
// Erases every field that `header` (from note_header_fields) does not list: the trailer's.
void strip_trailer_fields(boost::beast::http::fields& fields, const HeaderFields& header);

}  // namespace duet::router
