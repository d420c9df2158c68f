#include "router/chunked_decoder.h"

#include <algorithm>
#include <boost/beast/http/error.hpp>

#include "router/http_parse_error.h"
#include "router/http_syntax.h"

namespace duet::router {

namespace http = boost::beast::http;

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_control(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

}  // namespace

ChunkedDecoder::Piece ChunkedDecoder::next(std::string_view input, boost::system::error_code& ec) {
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

bool ChunkedDecoder::take_framing(char c, boost::system::error_code& ec) {
  auto u = static_cast<unsigned char>(c);
  if (state_ <= State::size_lf) {
    if (++line_bytes_ > line_limit_) {
      ec = http::error::buffer_overflow;
      return false;
    }
  } else if (state_ >= State::trailer_line_start && ++trailer_bytes_ > line_limit_) {
    ec = http::error::buffer_overflow;
    return false;
  }
  switch (state_) {
    case State::size:
      if (int digit = hex_value(c); digit >= 0) {
        if (size_ >> 60) {  // one more digit would not fit
          ec = HttpParseError::bad_chunk_size;
          return false;
        }
        size_ = size_ << 4 | static_cast<unsigned>(digit);
        ++digits_;
        return true;
      }
      if (digits_ == 0) {
        ec = HttpParseError::bad_chunk_size;
        return false;
      }
      [[fallthrough]];
    case State::size_space:  // BWS before an extension
      if (c == ' ' || c == '\t') {
        state_ = State::size_space;
      } else if (c == ';') {
        state_ = State::extension;
      } else if (c == '\r') {
        state_ = State::size_lf;
      } else {
        ec = HttpParseError::bad_chunk_size;
        return false;
      }
      return true;
    case State::extension:
      if (c == '\r') {
        state_ = State::size_lf;
      } else if (is_control(u)) {
        ec = HttpParseError::bad_chunk_extension;
        return false;
      }
      return true;
    case State::size_lf:
      if (c != '\n') {
        ec = HttpParseError::bad_chunk_size;
        return false;
      }
      return end_size_line(ec);
    case State::data_cr:
    case State::data_lf:
      if (c != (state_ == State::data_cr ? '\r' : '\n')) {
        ec = HttpParseError::bad_chunk_end;
        return false;
      }
      state_ = state_ == State::data_cr ? State::data_lf : State::size;
      return true;
    case State::trailer_line_start:
      if (c == '\r') {
        state_ = State::end_lf;
        return true;
      }
      trailer_colon_ = false;
      trailer_name_bytes_ = 0;
      state_ = State::trailer_line;
      [[fallthrough]];
    case State::trailer_line:
      // name ":" value: the name a token, the value without control characters.
      if (trailer_colon_) {
        if (c == '\r') {
          state_ = State::trailer_lf;
        } else if (is_control(u)) {
          ec = HttpParseError::bad_trailer;
          return false;
        }
        return true;
      }
      if (c == ':' && trailer_name_bytes_ > 0) {
        trailer_colon_ = true;
        return true;
      }
      if (!is_token_char(u)) {
        ec = HttpParseError::bad_trailer;
        return false;
      }
      ++trailer_name_bytes_;
      return true;
    case State::trailer_lf:
    case State::end_lf:
      if (c != '\n') {
        ec = HttpParseError::bad_trailer;
        return false;
      }
      state_ = state_ == State::end_lf ? State::done : State::trailer_line_start;
      return true;
    case State::data:
    case State::done:
      break;
  }
  return true;
}

bool ChunkedDecoder::end_size_line(boost::system::error_code& ec) {
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
