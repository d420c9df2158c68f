#pragma once
// For the parser tests: feeds `wire` to a parser in reads of `step` bytes (0: all at once),
// as a session does: its buffer keeps what the parser did not take, the next read is added
// to it. `put(buffer, ec)` returns the bytes taken; at the end of `wire`, `at_end(ec)`
// (the peer's close, or nothing). Returns the bytes not taken.

#include <boost/system/error_code.hpp>
#include <string>
#include <string_view>

namespace duet::router::test {

template <class Parser, class Put, class AtEnd>
std::size_t feed_in_reads(std::string_view wire, std::size_t step, const Parser& parser, Put put,
                          AtEnd at_end, boost::system::error_code& ec) {
  std::string buffer;
  std::size_t delivered = 0;
  for (;;) {
    std::size_t used = put(buffer, ec);
    buffer.erase(0, used);
    if (ec || parser.is_done()) break;
    if (used > 0 && !buffer.empty()) continue;
    if (delivered == wire.size()) {
      at_end(ec);
      break;
    }
    std::size_t n = step == 0 ? wire.size() : std::min(step, wire.size() - delivered);
    buffer.append(wire.substr(delivered, n));
    delivered += n;
  }
  return buffer.size() + wire.size() - delivered;
}

}  // namespace duet::router::test
