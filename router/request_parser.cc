#include "router/request_parser.h"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstring>
#include <memory>
#include <new>

#include "router/http_parse_error.h"
#include "router/http_syntax.h"

namespace duet::router {

namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

// 1*DIGIT, at most 19 of them (under 2^63): a length no body reaches.
std::optional<std::uint64_t> parse_length(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value;
}

// Whether the last coding of a Transfer-Encoding list is chunked (RFC 9112 §6.3: only then
// is the body framed by chunks). request_framing.h refuses any list but "chunked" itself.
bool ends_chunked(std::string_view codings) {
  auto comma = codings.rfind(',');
  std::string_view last = comma == std::string_view::npos ? codings : codings.substr(comma + 1);
  return boost::beast::iequals(trim_whitespace(last), "chunked");
}

bool is_target_char(unsigned char c) { return c > 0x20 && c < 0x7f; }

}  // namespace

RequestParser::RequestParser(std::size_t max_header_bytes, std::uint64_t max_body_bytes)
    : max_header_bytes_(max_header_bytes), max_body_bytes_(max_body_bytes) {}

std::size_t RequestParser::put(std::string_view input, error_code& ec) {
  ec = {};
  if (done_ || input.empty()) return 0;
  got_some_ = true;
  return header_done_ ? put_body(input, ec) : put_head(input, ec);
}

void RequestParser::put_eof(error_code& ec) {
  ec = done_ ? error_code{} : error_code{http::error::partial_message};
}

std::size_t RequestParser::put_head(std::string_view input, error_code& ec) {
  // Only the first max_header_bytes can hold the head's end: what is past them is not read.
  const std::size_t window = std::min(input.size(), max_header_bytes_);
  const char* base = input.data();
  while (scanned_ < window) {
    const auto* lf =
        static_cast<const char*>(std::memchr(base + scanned_, '\n', window - scanned_));
    if (!lf) {
      scanned_ = window;
      break;
    }
    const std::size_t at = static_cast<std::size_t>(lf - base);
    scanned_ = at + 1;
    if (at == line_begin_ || base[at - 1] != '\r') {
      ec = HttpParseError::bad_line_ending;
      return 0;
    }
    const std::size_t line_end = at - 1;
    if (line_begin_ == 0) {
      parse_request_line(input.substr(0, line_end), ec);
    } else if (line_end == line_begin_) {  // the empty line: the head ends here
      finish_head(input.substr(0, at + 1), ec);
      return ec && !header_done_ ? 0 : at + 1;
    } else {
      parse_field_line(input, line_begin_, line_end, ec);
    }
    if (ec) return 0;
    line_begin_ = at + 1;
  }
  if (input.size() >= max_header_bytes_) ec = http::error::header_limit;
  return 0;
}

void RequestParser::parse_request_line(std::string_view line, error_code& ec) {
  // method SP request-target SP HTTP-version
  auto first_space = line.find(' ');
  if (first_space == std::string_view::npos || !is_token(line.substr(0, first_space))) {
    ec = HttpParseError::bad_method;
    return;
  }
  auto second_space = line.find(' ', first_space + 1);
  if (second_space == std::string_view::npos) {
    ec = HttpParseError::bad_version;
    return;
  }
  std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
  if (target.empty() || !std::all_of(target.begin(), target.end(), [](char c) {
        return is_target_char(static_cast<unsigned char>(c));
      })) {
    ec = HttpParseError::bad_target;
    return;
  }
  std::string_view version = line.substr(second_space + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    ec = HttpParseError::bad_version;
    return;
  }
  method_size_ = first_space;
  target_begin_ = first_space + 1;
  target_size_ = target.size();
  request_.version_ = version.back() == '1' ? 11 : 10;
}

void RequestParser::parse_field_line(std::string_view head, std::size_t begin, std::size_t end,
                                     error_code& ec) {
  std::string_view line = head.substr(begin, end - begin);
  if (line.front() == ' ' || line.front() == '\t') {
    ec = HttpParseError::folded_field;
    return;
  }
  auto colon = line.find(':');
  std::string_view name = line.substr(0, colon);
  if (colon == std::string_view::npos || !is_token(name)) {
    ec = HttpParseError::bad_field_name;
    return;
  }
  std::string_view value = trim_whitespace(line.substr(colon + 1));
  if (!is_field_value(value)) {
    ec = HttpParseError::bad_field_value;
    return;
  }
  http::field field = http::string_to_field(name);
  if (field == http::field::content_length) {
    auto length = parse_length(value);
    if (!length || (content_length_ && *content_length_ != *length)) {
      ec = HttpParseError::bad_content_length;
      return;
    }
    content_length_ = length;
  } else if (field == http::field::connection || field == http::field::proxy_connection) {
    // Which fields are hop-by-hop and whether the connection stays hangs on this list.
    if (!http::validate_list(http::opt_token_list{value})) {
      ec = HttpParseError::bad_connection;
      return;
    }
  } else if (field == http::field::transfer_encoding) {
    transfer_encoding_ = true;
    chunked_ = ends_chunked(value);
  }
  fields_.push_back({field, static_cast<std::uint32_t>(begin),
                     static_cast<std::uint32_t>(name.size()),
                     static_cast<std::uint32_t>(value.data() - head.data()),
                     static_cast<std::uint32_t>(value.size())});
}

void RequestParser::finish_head(std::string_view head, error_code& ec) {
  if (content_length_ && transfer_encoding_) {
    ec = HttpParseError::length_and_chunked;
    return;
  }
  // One block: the fields, then the head's bytes they view (proxy_request.h).
  const std::size_t fields_bytes = fields_.size() * sizeof(HeadField);
  request_.block_size_ = fields_bytes + head.size();
  request_.block_ = std::make_unique_for_overwrite<std::byte[]>(request_.block_size_);
  char* bytes = reinterpret_cast<char*>(request_.block_.get() + fields_bytes);
  std::memcpy(bytes, head.data(), head.size());
  auto* fields = reinterpret_cast<HeadField*>(request_.block_.get());
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const FieldSpan& span = fields_[i];
    new (fields + i) HeadField(span.name, {bytes + span.name_begin, span.name_size},
                               {bytes + span.value_begin, span.value_size});
  }
  request_.fields_ = fields;
  request_.field_count_ = fields_.size();
  request_.method_string_ = {bytes, method_size_};
  request_.method_ = http::string_to_verb(request_.method_string_);
  request_.target_ = {bytes + target_begin_, target_size_};
  header_done_ = true;
  if (chunked_) {
    chunks_.emplace(max_header_bytes_, max_body_bytes_);
  } else if (content_length_) {
    if (*content_length_ > max_body_bytes_) {
      ec = http::error::body_limit;
      return;
    }
    body_left_ = *content_length_;
  }
  // A Transfer-Encoding not ending in chunked frames no body here; request_framing.h
  // refuses it before anything is read as the next request.
  done_ = body_left_ == 0 && !chunked_;
}

std::size_t RequestParser::put_body(std::string_view input, error_code& ec) {
  std::string& body = request_.body_;
  if (!chunks_) {
    // The whole length is room taken only now, after the header's checks passed.
    if (body.empty()) body.reserve(static_cast<std::size_t>(body_left_));
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(body_left_, input.size()));
    body.append(input.data(), n);
    body_left_ -= n;
    done_ = body_left_ == 0;
    return n;
  }
  std::size_t used = 0;
  while (used < input.size() && !done_) {
    auto piece = chunks_->next(input.substr(used), ec);
    body.append(piece.data);
    used += piece.used;
    if (ec) return used;
    done_ = chunks_->done();
  }
  return used;
}

}  // namespace duet::router
