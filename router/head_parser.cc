#include "router/head_parser.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <memory>
#include <new>

#include "router/field_name.h"
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
// is the body framed by chunks); nothing when the list is malformed or has chunked elsewhere,
// which a reader after the router might take for chunks. request_framing.h refuses any list
// but "chunked" itself.
std::optional<bool> ends_chunked(std::string_view codings) {
  http::opt_token_list list{codings};
  if (!http::validate_list(list)) return std::nullopt;
  std::size_t count = 0;
  bool last = false;
  for (auto coding : list) {
    if (last) return std::nullopt;  // chunked before another coding
    last = boost::beast::iequals(coding, "chunked");
    ++count;
  }
  if (count == 0) return std::nullopt;
  return last;
}

}  // namespace

void HeadParser::parse_field_line(std::string_view head, std::size_t begin, std::size_t end,
                                  error_code& ec) {
  std::string_view line = head.substr(begin, end - begin);
  if (line.front() == ' ' || line.front() == '\t') {
    ec = HttpParseError::folded_field;
    return;
  }
  // The name's token characters up to the colon, in one pass.
  std::size_t colon = token_prefix(line);
  if (colon == 0 || colon == line.size() || line[colon] != ':') {
    ec = HttpParseError::bad_field_name;
    return;
  }
  std::string_view name = line.substr(0, colon);
  std::string_view value = trim_whitespace(line.substr(colon + 1));
  if (!is_field_value(value)) {
    ec = HttpParseError::bad_field_value;
    return;
  }
  http::field field = field_of(name);
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
    auto chunked = ends_chunked(value);
    if (!chunked || transfer_encoding_) {  // a second line could undo the first's chunked
      ec = HttpParseError::bad_transfer_encoding;
      return;
    }
    transfer_encoding_ = true;
    chunked_ = *chunked;
  }
  fields_.push_back({field, static_cast<std::uint32_t>(begin),
                     static_cast<std::uint32_t>(name.size()),
                     static_cast<std::uint32_t>(value.data() - head.data()),
                     static_cast<std::uint32_t>(value.size())});
}

const char* HeadParser::build(std::string_view head, unsigned version, MessageHead& message) const {
  const std::size_t fields_bytes = fields_.size() * sizeof(HeadField);
  message.block_size_ = fields_bytes + head.size();
  message.block_ = std::make_unique_for_overwrite<std::byte[]>(message.block_size_);
  char* bytes = reinterpret_cast<char*>(message.block_.get() + fields_bytes);
  std::memcpy(bytes, head.data(), head.size());
  auto* fields = reinterpret_cast<HeadField*>(message.block_.get());
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const FieldSpan& span = fields_[i];
    new (fields + i) HeadField(span.name, {bytes + span.name_begin, span.name_size},
                               {bytes + span.value_begin, span.value_size});
  }
  message.fields_ = fields;
  message.field_count_ = fields_.size();
  message.version_ = version;
  return bytes;
}

}  // namespace duet::router
