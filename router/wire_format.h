#pragma once
// HTTP/1.x messages as the bytes that go on the wire, built in one flat buffer so that a
// request, a response header with the body that came with it, or a stream's chunk leaves
// in one write (one sendmsg, one TLS record). Beast's serializer hands the socket one
// buffer per header field instead; walking those buffer sequences cost the proxy more CPU
// than its own work (bench/README.md, "Where the time goes").

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>

namespace duet::router {

// The start lines; `version` is 10 or 11. An empty `reason` gives the standard phrase.
void append_request_line(std::string& out, std::string_view method, std::string_view target,
                         unsigned version);
void append_status_line(std::string& out, unsigned version, unsigned status,
                        std::string_view reason);
inline void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

// The start line, every field, then the empty line.
void append_head(std::string& out, const boost::beast::http::request_header<>& header);
void append_head(std::string& out, const boost::beast::http::response_header<>& header);

// One piece of a chunked body. An empty piece appends nothing: a zero-size chunk would end
// the body.
void append_chunk(std::string& out, std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// A whole message whose body is already framed by its header (Content-Length).
template <bool isRequest>
std::string serialize(
    const boost::beast::http::message<isRequest, boost::beast::http::string_body>& message) {
  std::string out;
  out.reserve(256 + message.body().size());
  append_head(out, message.base());
  out += message.body();
  return out;
}

}  // namespace duet::router
