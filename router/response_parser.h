#pragma once
// Reads an engine's response off the bytes of its connection, as they come: the head once it
// is all there (head_parser.h), then the body as it streams, decoded from its framing
// (body_reader.h) and handed out in the runs that have come.
//
// The head, a chunk's size line and the trailer section are held to `max_header_bytes`
// each; the body has no bound (a stream runs as long as the engine writes).

#include <boost/beast/http/status.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "router/message_parser.h"

namespace duet::router {

class ResponseHead : public MessageHead {
 public:
  ResponseHead() = default;
  ResponseHead(ResponseHead&&) noexcept = default;
  ResponseHead& operator=(ResponseHead&&) noexcept = default;
  ResponseHead(const ResponseHead& other)
      : MessageHead(other), status_(other.status_), reason_(rebased(other.reason_, other)) {}
  ResponseHead& operator=(const ResponseHead& other) { return *this = ResponseHead(other); }

  unsigned result_int() const noexcept { return status_; }  // any three digits
  std::string_view reason() const noexcept { return reason_; }

 private:
  friend class ResponseParser;
  unsigned status_ = 0;
  std::string_view reason_;
};

class ResponseParser : public MessageParser {
 public:
  // `head_request`: the answer to a HEAD has no body, whatever its header says.
  ResponseParser(std::size_t max_header_bytes, bool head_request)
      : MessageParser(max_header_bytes), head_request_(head_request) {}

  // Takes bytes from the front of `input`: nothing until the whole head is there (each call
  // until then gets the bytes of the one before, and more), then the head alone; after it,
  // all of `input` that belongs to the body, its data appended to `body`.
  std::size_t put(std::string_view input, std::string& body, boost::system::error_code& ec);

  const ResponseHead& get() const noexcept { return response_; }

 private:
  void parse_status_line(std::string_view line, boost::system::error_code& ec);

  bool head_request_;
  ResponseHead response_;
  static constexpr std::size_t kReasonBegin = 13;  // after "HTTP/1.1 200 "
  std::size_t reason_size_ = 0;
  unsigned version_ = 11;
};

}  // namespace duet::router
