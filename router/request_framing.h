#pragma once
// What the router accepts as the framing of a client's request, beyond what its parser
// checks (request_parser.h; RFC 9112 §6): a Transfer-Encoding that is exactly `chunked`,
// and repeated Content-Lengths only of the same text. The parser takes a coding list not
// ending in chunked as "no body", so the body would be read as the next request: a
// smuggled one.

#include <optional>
#include <string>

#include "router/proxy_request.h"

namespace duet::router {

struct FramingError {
  int status;  // 400, or 501 for a coding the router does not decode
  std::string message;
};

// `chunked` is the parser's verdict on the same header. Two field lookups when there is no
// Transfer-Encoding.
std::optional<FramingError> check_request_framing(const ProxyRequest& request, bool chunked);

}  // namespace duet::router
