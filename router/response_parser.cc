#include "router/response_parser.h"

#include <boost/beast/http/error.hpp>

#include "router/http_parse_error.h"
#include "router/http_syntax.h"

namespace duet::router {

using boost::system::error_code;

std::size_t ResponseParser::put(std::string_view input, std::string& body, error_code& ec) {
  ec = {};
  if (is_done() || input.empty()) return 0;
  got_some_ = true;
  if (body_) return body_->put(input, body, ec);
  std::size_t size = head_.put(
      input, [this](std::string_view line, error_code& e) { parse_status_line(line, e); }, ec);
  if (size == 0) return 0;
  const char* bytes = head_.build(input.substr(0, size), version_, response_);
  response_.reason_ = {bytes + kReasonBegin, reason_size_};
  // RFC 9112 §6.3: no body after a HEAD, a 1xx, a 204 or a 304, whatever the header says.
  unsigned status = response_.status_;
  if (head_request_ || status / 100 == 1 || status == 204 || status == 304)
    body_ = BodyReader::none();
  else if (head_.chunked())
    body_ = BodyReader::chunked(max_header_bytes_, std::nullopt);
  else if (auto length = head_.content_length())
    body_ = BodyReader::length(*length);
  else
    body_ = BodyReader::until_eof();
  return size;
}

// HTTP-version SP 3DIGIT SP reason-phrase (which may be empty, not its space).
void ResponseParser::parse_status_line(std::string_view line, error_code& ec) {
  if (line.size() < kReasonBegin ||
      (line.substr(0, 9) != "HTTP/1.1 " && line.substr(0, 9) != "HTTP/1.0 ")) {
    ec = HttpParseError::bad_status_line;
    return;
  }
  unsigned status = 0;
  for (char c : line.substr(9, 3)) {
    if (c < '0' || c > '9') {
      ec = HttpParseError::bad_status_line;
      return;
    }
    status = status * 10 + static_cast<unsigned>(c - '0');
  }
  std::string_view reason = line.substr(kReasonBegin);
  if (line[kReasonBegin - 1] != ' ' || !is_field_value(reason)) {
    ec = HttpParseError::bad_status_line;
    return;
  }
  response_.status_ = status;
  version_ = line[7] == '1' ? 11 : 10;
  reason_size_ = reason.size();
}

}  // namespace duet::router
