#include "router/chunked_decoder.h"

#include <algorithm>
#include <boost/beast/http/error.hpp>

#include "router/http_syntax.h"

namespace duet::router {

namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

}  // namespace

ChunkedDecoder::Piece ChunkedDecoder::next(std::string_view input, error_code& ec) {
  ec = {};
  Piece piece;
  while (piece.used < input.size() && state_ != State::done) {
    if (state_ == State::data) {
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size_, input.size() - piece.used));
      piece.data = input.substr(piece.used, n);
      piece.used += n;
      size_ -= n;
      if (size_ == 0) state_ = State::data_cr;
      return piece;
    }
    if (!take_framing(input[piece.used], ec)) return piece;
    ++piece.used;
  }
  return piece;
}

bool ChunkedDecoder::take_framing(char c, error_code& ec) {
  if (state_ <= State::size_lf) {
    if (++line_bytes_ > line_limit_) {
      ec = http::error::buffer_overflow;
      return false;
    }
    return take_size_line(c, ec);
  }
  if (state_ >= State::trailer_line_start) {
    if (++trailer_bytes_ > line_limit_) {
      ec = http::error::buffer_overflow;
      return false;
    }
    return take_trailer(c, ec);
  }
  // The CRLF after a chunk's data.
  if (c != (state_ == State::data_cr ? '\r' : '\n')) return fail(ec, HttpParseError::bad_chunk_end);
  return to(state_ == State::data_cr ? State::data_lf : State::size);
}

bool ChunkedDecoder::take_size_line(char c, error_code& ec) {
  auto u = static_cast<unsigned char>(c);
  switch (state_) {
    case State::size:
      if (int digit = hex_value(c); digit >= 0) {
        if (size_ >> 60) return fail(ec, HttpParseError::bad_chunk_size);  // past 64 bits
        size_ = size_ << 4 | static_cast<unsigned>(digit);
        ++digits_;
        return true;
      }
      if (digits_ == 0) return fail(ec, HttpParseError::bad_chunk_size);
      [[fallthrough]];
    case State::size_space:
      if (c == ';') return to(State::ext_name_start);
      if (c == '\r') return to(State::size_lf);
      return is_space(c) ? to(State::size_space) : fail(ec, HttpParseError::bad_chunk_size);
    case State::ext_name_start:
      if (is_space(c)) return true;
      return is_token_char(u) ? to(State::ext_name) : fail(ec, HttpParseError::bad_chunk_extension);
    case State::ext_name:
      if (is_token_char(u)) return true;
      [[fallthrough]];
    case State::ext_after_name:
      if (c == '=') return to(State::ext_value_start);
      if (is_space(c)) return to(State::ext_after_name);
      [[fallthrough]];
    case State::ext_after_value:
      if (c == ';') return to(State::ext_name_start);
      if (c == '\r') return to(State::size_lf);
      if (is_space(c) && state_ == State::ext_after_value) return true;
      return fail(ec, HttpParseError::bad_chunk_extension);
    case State::ext_value_start:
      if (is_space(c)) return true;
      if (c == '"') return to(State::ext_quoted);
      return is_token_char(u) ? to(State::ext_token_value)
                              : fail(ec, HttpParseError::bad_chunk_extension);
    case State::ext_token_value:
      if (is_token_char(u)) return true;
      state_ = State::ext_after_value;
      return take_size_line(c, ec);
    case State::ext_quoted:  // qdtext: HTAB, SP, VCHAR but DQUOTE and backslash, obs-text
      if (c == '"') return to(State::ext_after_value);
      if (c == '\\') return to(State::ext_quoted_pair);
      return is_field_value_byte(u) ? true : fail(ec, HttpParseError::bad_chunk_extension);
    case State::ext_quoted_pair:
      return is_field_value_byte(u) ? to(State::ext_quoted)
                                    : fail(ec, HttpParseError::bad_chunk_extension);
    case State::size_lf:
      if (c != '\n') return fail(ec, HttpParseError::bad_chunk_size);
      return end_size_line(ec);
    default:
      return fail(ec, HttpParseError::bad_chunk_size);  // not a state of the size line
  }
}

// trailer-section = *( field-line CRLF ) CRLF; a field line is name ":" value, the name a
// token, the value without control characters.
bool ChunkedDecoder::take_trailer(char c, error_code& ec) {
  auto u = static_cast<unsigned char>(c);
  switch (state_) {
    case State::trailer_line_start:
      if (c == '\r') return to(State::end_lf);
      return is_token_char(u) ? to(State::trailer_name) : fail(ec, HttpParseError::bad_trailer);
    case State::trailer_name:
      if (c == ':') return to(State::trailer_value);
      return is_token_char(u) ? true : fail(ec, HttpParseError::bad_trailer);
    case State::trailer_value:
      if (c == '\r') return to(State::trailer_lf);
      return is_field_value_byte(u) ? true : fail(ec, HttpParseError::bad_trailer);
    case State::trailer_lf:
    case State::end_lf:
      if (c != '\n') return fail(ec, HttpParseError::bad_trailer);
      return to(state_ == State::end_lf ? State::done : State::trailer_line_start);
    default:
      return fail(ec, HttpParseError::bad_trailer);  // not a state of the trailer
  }
}

bool ChunkedDecoder::end_size_line(error_code& ec) {
  announced_ += size_;
  if (body_limit_ && announced_ > *body_limit_) {
    ec = http::error::body_limit;
    return false;
  }
  line_bytes_ = 0;
  digits_ = 0;
  state_ = size_ == 0 ? State::trailer_line_start : State::data;
  return true;
}

}  // namespace duet::router
