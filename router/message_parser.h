#pragma once
// What RequestParser and ResponseParser share: a message's head (head_parser.h), then its
// body (body_reader.h), and where in that the parser is.

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "router/body_reader.h"
#include "router/head_parser.h"

namespace duet::router {

// What a read buffer holds (Beast's flat_buffer::data()), as the parsers take it.
inline std::string_view bytes_of(boost::asio::const_buffer buffer) noexcept {
  return {static_cast<const char*>(buffer.data()), buffer.size()};
}

class MessageParser {
 public:
  // The peer ended its side: the end of a body that runs until then, else partial_message.
  void put_eof(boost::system::error_code& ec) {
    if (body_)
      body_->put_eof(ec);
    else
      ec = boost::beast::http::error::partial_message;
  }

  bool got_some() const noexcept { return got_some_; }
  bool is_header_done() const noexcept { return body_.has_value(); }
  bool is_done() const noexcept { return body_ && body_->done(); }
  // What the header says, even where no body follows (a HEAD's answer says what a GET's is).
  bool chunked() const noexcept { return head_.chunked(); }
  std::optional<std::uint64_t> content_length() const noexcept { return head_.content_length(); }

 protected:
  explicit MessageParser(std::size_t max_header_bytes)
      : head_(max_header_bytes), max_header_bytes_(max_header_bytes) {}

  HeadParser head_;
  std::size_t max_header_bytes_;
  std::optional<BodyReader> body_;  // once the head is read
  bool got_some_ = false;
};

}  // namespace duet::router
