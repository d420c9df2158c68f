#include "router/request_framing.h"

#include <boost/beast/core/string.hpp>

#include "router/field_scan.h"

namespace duet::router {

namespace http = boost::beast::http;
using boost::beast::iequals;

std::optional<FramingError> check_request_framing(const ProxyRequest& request, bool chunked) {
  const auto header = request.fields();
  // RFC 9112 §6.3: repeated lengths stand only when they are the same. The parser compares
  // them as numbers (`2` and `02` pass); an intermediary between client and router may read
  // the text. The same text, or 400.
  if (const auto* length = first_field(header, http::field::content_length))
    for (const auto& field : header)
      if (field.name() == http::field::content_length && field.value() != length->value())
        return FramingError{400, "Content-Length given more than once with different values"};
  const auto* field = first_field(header, http::field::transfer_encoding);
  if (!field) return std::nullopt;
  auto value = field->value();
  // RFC 9112 §6.1: a server MUST treat an HTTP/1.0 message with Transfer-Encoding as faulty.
  if (request.version() < 11)
    return FramingError{400, "Transfer-Encoding is not allowed in an HTTP/1.0 request"};
  // The parser took one Transfer-Encoding line, a valid list with chunked, if there, once
  // and last (head_parser.h).
  if (chunked && iequals(value, "chunked")) return std::nullopt;
  // RFC 9112 §6.3: chunked absent leaves the length unknown: 400. Chunked last after another
  // coding is framed, but the router does not decode that coding: 501.
  if (!chunked)
    return FramingError{400, "Transfer-Encoding \"" + std::string(value) +
                                 "\": only \"chunked\", once and last, is accepted"};
  return FramingError{501, "Transfer-Encoding \"" + std::string(value) +
                               "\": the router decodes no coding but chunked"};
}

}  // namespace duet::router
