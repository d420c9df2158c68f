#include "router/request_parser.h"

#include <algorithm>
#include <boost/beast/http/verb.hpp>

#include "router/http_parse_error.h"
#include "router/http_syntax.h"

namespace duet::router {

namespace http = boost::beast::http;
using boost::system::error_code;

std::size_t RequestParser::put(std::string_view input, error_code& ec) {
  ec = {};
  if (is_done() || input.empty()) return 0;
  got_some_ = true;
  if (!body_) return put_head(input, ec);
  std::string& body = request_.body_;
  // A declared length is room taken only now, after the header's checks passed.
  if (body.empty() && head_.content_length())
    body.reserve(static_cast<std::size_t>(*head_.content_length()));
  return body_->put(input, body, ec);
}

std::size_t RequestParser::put_head(std::string_view input, error_code& ec) {
  std::size_t size = head_.put(
      input, [this](std::string_view line, error_code& e) { parse_request_line(line, e); }, ec);
  if (size == 0) return 0;
  const char* bytes = head_.build(input.substr(0, size), version_, request_);
  request_.method_string_ = {bytes, method_size_};
  request_.method_ = http::string_to_verb(request_.method_string_);
  request_.target_ = {bytes + target_begin_, target_size_};
  if (head_.chunked()) {
    body_ = BodyReader::chunked(max_header_bytes_, max_body_bytes_);
  } else if (auto length = head_.content_length()) {
    body_ = BodyReader::length(*length);
    if (*length > max_body_bytes_) ec = http::error::body_limit;  // the 413 names the request
  } else {
    // A Transfer-Encoding not ending in chunked frames no body here; request_framing.h
    // refuses it before anything is read as the next request.
    body_ = BodyReader::none();
  }
  return size;
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
        return c > 0x20 && c < 0x7f;  // visible ASCII
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
  version_ = version.back() == '1' ? 11 : 10;
}

}  // namespace duet::router
