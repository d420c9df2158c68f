#pragma once
// A peer's bytes as a socket delivers them to the router's read buffer: in reads that end
// at the given cuts (http_checks.h cut_points; none: all at once), then EOF. For fuzz/request_reader.cc and fuzz/response_relay.cc.

#include <boost/beast/core/flat_buffer.hpp>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

namespace duet::fuzz {

class ByteStream {
 public:
  ByteStream(std::string_view bytes, std::vector<std::size_t> cuts)
      : bytes_(bytes), cuts_(std::move(cuts)) {}

  boost::beast::flat_buffer& buffer() { return buffer_; }
  // One read, up to the next cut, into buffer(); false at the end (the peer's EOF).
  bool read() {
    if (delivered_ == bytes_.size()) return false;
    std::size_t end = next_cut_ < cuts_.size() ? cuts_[next_cut_++] : bytes_.size();
    std::size_t n = end - delivered_;
    std::memcpy(buffer_.prepare(n).data(), bytes_.data() + delivered_, n);
    buffer_.commit(n);
    delivered_ += n;
    return true;
  }
  // Bytes the parser has taken so far.
  std::size_t position() const { return delivered_ - buffer_.size(); }
  // Bytes not taken by the parser: in buffer() or not read yet.
  std::size_t unread() const { return bytes_.size() - position(); }

 private:
  std::string_view bytes_;
  std::vector<std::size_t> cuts_;
  std::size_t next_cut_ = 0;
  std::size_t delivered_ = 0;
  boost::beast::flat_buffer buffer_;
};

}  // namespace duet::fuzz
