#pragma once
// Reads a message body as its bytes come, framed as its head said (RFC 9112 §6): none, a
// Content-Length, chunks (chunked_decoder.h), or until the peer closes (a response only).
// Shared by RequestParser and ResponseParser.

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "router/chunked_decoder.h"

namespace duet::router {

class BodyReader {
 public:
  static BodyReader none() { return BodyReader(Framing::none, 0); }
  static BodyReader length(std::uint64_t bytes) { return BodyReader(Framing::length, bytes); }
  static BodyReader until_eof() { return BodyReader(Framing::until_eof, 0); }
  // A chunk's size line and the trailer section are held to `line_limit` bytes each, the
  // chunks together to `body_limit` (chunked_decoder.h).
  static BodyReader chunked(std::size_t line_limit, std::optional<std::uint64_t> body_limit) {
    BodyReader reader(Framing::chunked, 0);
    reader.chunks_.emplace(line_limit, body_limit);
    return reader;
  }

  // Takes all of `input` that belongs to the body, appending its data to `out`.
  std::size_t put(std::string_view input, std::string& out, boost::system::error_code& ec);
  // The peer ended its side: the end of a body that runs until then, else partial_message.
  void put_eof(boost::system::error_code& ec);

  bool done() const noexcept { return done_; }

 private:
  enum class Framing { none, length, chunked, until_eof };
  BodyReader(Framing framing, std::uint64_t left)
      : framing_(framing),
        left_(left),
        done_(framing == Framing::none || (framing == Framing::length && left == 0)) {}

  Framing framing_;
  std::uint64_t left_;  // of a Content-Length
  std::optional<ChunkedDecoder> chunks_;
  bool done_;
};

}  // namespace duet::router
