#pragma once
// Decodes a chunked body (RFC 9112 §7.1) as its bytes come, in any split: the framing is
// read a byte at a time, the data handed out in runs as long as the input has. Chunk
// extensions and trailer fields are checked to their grammar and dropped: the body goes on
// with a framing of the router's own, so neither reaches the other side.
//
// Bounds: a chunk's size line, and the trailer section, to `line_limit` bytes each
// (http::error::buffer_overflow past it); the chunk sizes together to `body_limit`
// (http::error::body_limit as soon as a size line says so).

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "router/http_parse_error.h"

namespace duet::router {

class ChunkedDecoder {
 public:
  ChunkedDecoder(std::size_t line_limit, std::optional<std::uint64_t> body_limit)
      : line_limit_(line_limit), body_limit_(body_limit) {}

  struct Piece {
    std::size_t used = 0;   // bytes taken from the front of the input
    std::string_view data;  // body bytes among them (a view into the input)
  };

  // Takes framing from the front of `input` up to the first run of data, and that run.
  // Call again with the rest while there is input and the body is not done.
  Piece next(std::string_view input, boost::system::error_code& ec);

  bool done() const noexcept { return state_ == State::done; }

 private:
  enum class State {
    size,        // the chunk size's hex digits
    size_space,  // whitespace after them
    // chunk-ext: *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )
    ext_name_start,
    ext_name,
    ext_after_name,
    ext_value_start,
    ext_token_value,
    ext_quoted,
    ext_quoted_pair,
    ext_after_value,
    size_lf,  // the size line's states end here: each of their bytes counts to its limit
    data,
    data_cr,
    data_lf,
    trailer_line_start,  // the trailer section's states: each byte counts to its limit
    trailer_name,
    trailer_value,
    trailer_lf,
    end_lf,  // the CR of the empty line that ends the trailer section came
    done,
  };

  // One byte of framing; false with `ec` set when it is malformed or over a limit.
  bool take_framing(char c, boost::system::error_code& ec);
  bool take_size_line(char c, boost::system::error_code& ec);
  bool take_trailer(char c, boost::system::error_code& ec);
  bool end_size_line(boost::system::error_code& ec);
  bool to(State next) {
    state_ = next;
    return true;
  }
  static bool fail(boost::system::error_code& ec, HttpParseError why) {
    ec = why;
    return false;
  }

  std::size_t line_limit_;
  std::optional<std::uint64_t> body_limit_;
  State state_ = State::size;
  std::uint64_t size_ = 0;       // of the chunk whose size line is read, then its data left
  std::uint64_t announced_ = 0;  // the chunk sizes so far
  std::size_t digits_ = 0;
  std::size_t line_bytes_ = 0;  // of the size line being read
  std::size_t trailer_bytes_ = 0;
};

}  // namespace duet::router
