#pragma once
// A peer's bytes as a socket delivers them to the router's read buffer: in reads of at
// most a given size, then EOF. For fuzz/request_reader.cc and fuzz/response_relay.cc.

#include <algorithm>
#include <boost/beast/core/flat_buffer.hpp>
#include <cstring>
#include <string_view>

namespace duet::fuzz {

class ByteStream {
 public:
  ByteStream(std::string_view bytes, std::size_t piece) : bytes_(bytes), piece_(piece) {}

  boost::beast::flat_buffer& buffer() { return buffer_; }
  // One read of at most `piece` bytes into buffer(); false at the end (the peer's EOF).
  bool read() {
    if (delivered_ == bytes_.size()) return false;
    std::size_t n = std::min(piece_, bytes_.size() - delivered_);
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
  std::size_t piece_;
  std::size_t delivered_ = 0;
  boost::beast::flat_buffer buffer_;
};

}  // namespace duet::fuzz
