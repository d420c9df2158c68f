#pragma once
// HTTP/1.x messages as the bytes that go on the wire, built in one flat buffer so that a
// request, a response header with the body that came with it, or a stream's chunk leaves
// in one write (one sendmsg, one TLS record). Beast's serializer hands the socket one
// buffer per header field instead; walking those buffer sequences cost the proxy more CPU
// than its own work (bench/README.md, "Where the time goes").

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstring>
#include <string>
#include <string_view>

namespace duet::router {

// Appends a head's many short pieces to `out` through a pointer into its own bytes, reserved
// ahead and grown only when a piece does not fit; `out` gets its final size when the writer
// goes. std::string::append is a call of some 55 instructions out of line, and the two heads
// of a proxied request made 48 of them, 7 % of a plain request's instructions (callgrind,
// bench/README.md).
class WireWriter {
 public:
  // `expected`: the bytes to reserve; a guess, not a limit.
  WireWriter(std::string& out, std::size_t expected);
  ~WireWriter() { out_.resize(static_cast<std::size_t>(next_ - out_.data())); }
  WireWriter(const WireWriter&) = delete;
  WireWriter& operator=(const WireWriter&) = delete;

  void put(std::string_view piece) {
    if (piece.empty()) return;
    if (static_cast<std::size_t>(end_ - next_) < piece.size()) grow(piece.size());
    std::memcpy(next_, piece.data(), piece.size());
    next_ += piece.size();
  }
  void put(char c) {
    if (next_ == end_) grow(1);
    *next_++ = c;
  }
  void field(std::string_view name, std::string_view value) {
    put(name);
    put(": ");
    put(value);
    put("\r\n");
  }

 private:
  void grow(std::size_t more);

  std::string& out_;
  char* next_;
  char* end_;
};

// The bytes a field takes on the wire.
inline std::size_t field_size(std::string_view name, std::string_view value) {
  return name.size() + value.size() + 4;
}

// The bytes all of `fields` (Beast's, or a ProxyRequest's) take, with the empty line after them.
template <class Fields>
std::size_t fields_size(const Fields& fields) {
  std::size_t size = 2;
  for (const auto& field : fields) size += field_size(field.name_string(), field.value());
  return size;
}

// The start lines; `version` is 10 or 11. An empty `reason` gives the standard phrase.
void append_request_line(WireWriter& out, std::string_view method, std::string_view target,
                         unsigned version);
void append_status_line(WireWriter& out, unsigned version, unsigned status,
                        std::string_view reason);
// The bytes each takes (the status line's at most, when the standard phrase replaces none).
inline std::size_t request_line_size(std::string_view method, std::string_view target) {
  return method.size() + target.size() + 12;  // two spaces, "HTTP/1.1", CRLF
}
inline std::size_t status_line_size(std::string_view reason) {
  return 15 + (reason.empty() ? 32 : reason.size());  // "HTTP/1.1 200 ", CRLF
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
