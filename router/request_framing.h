#pragma once
// What the router accepts as the framing of a client's request, beyond what Beast's parser
// checks (RFC 9112 §6): a Transfer-Encoding that is exactly `chunked`, and no trailer field
// reaching the engine. Beast takes any coding list not ending in chunked as "no body", so
// the body would be read as the next request: a smuggled one.

#include <boost/beast/http/message.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace duet::router {

struct FramingError {
  int status;  // 400, or 501 for a coding the router does not decode
  std::string message;
};

// Beast 1.81's header_limit bounds the start line and the fields each on their own (a
// header could be the limit and a start line long), and at the limit whether it passes
// depends on how TCP split the bytes. So the parser gets this much more room and the
// router holds the whole header, as the parser took it, to maxHeaderBytes itself.
inline constexpr std::size_t kParserHeaderSlack = 64;
inline std::uint32_t parser_header_limit(std::size_t max_header_bytes) {
  return static_cast<std::uint32_t>(max_header_bytes + kParserHeaderSlack);
}

// Past the header, one put() of a parser that is not eager takes one element: a piece of
// body, a chunk line, or the last chunk with the trailer section. What it took that is not
// body is framing, held to maxHeaderBytes: the bound the read buffer has while an element is
// incomplete, so the outcome is the same whether the element came at once or in pieces.
inline bool framing_over_limit(std::size_t used, std::size_t body_taken,
                               std::size_t max_header_bytes) {
  return used - body_taken > max_header_bytes;
}

// `chunked` is the parser's verdict on the same header. Two field lookups when there is no
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
