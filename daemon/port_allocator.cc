#include "daemon/port_allocator.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <stdexcept>

namespace duet::daemon {

namespace {
bool can_bind(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(port);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

uint16_t parse_port(std::string_view text, const std::string& range) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v == 0 || v > 65535)
    throw std::invalid_argument("--port-range \"" + range + "\": expected FIRST-LAST, like 20000-20999");
  return static_cast<uint16_t>(v);
}
}  // namespace

PortAllocator PortAllocator::parse(const std::string& range) {
  auto dash = range.find('-');
  if (dash == std::string::npos)
    throw std::invalid_argument("--port-range \"" + range + "\": expected FIRST-LAST, like 20000-20999");
  auto first = parse_port(std::string_view(range).substr(0, dash), range);
  auto last = parse_port(std::string_view(range).substr(dash + 1), range);
  if (first > last) throw std::invalid_argument("--port-range \"" + range + "\": FIRST > LAST");
  return PortAllocator(first, last);
}

std::optional<uint16_t> PortAllocator::allocate() {
  // Round-robin from the last port handed out, so a port just released (whose engine may
  // still hold it in TIME_WAIT or be shutting down) is not reused at once.
  unsigned span = static_cast<unsigned>(last_ - first_) + 1;
  for (unsigned i = 0; i < span; ++i) {
    uint16_t port = static_cast<uint16_t>(first_ + (next_ - first_ + i) % span);
    if (taken_.count(port) || !can_bind(port)) continue;
    taken_.insert(port);
    next_ = static_cast<uint16_t>(first_ + (port - first_ + 1) % span);
    return port;
  }
  return std::nullopt;
}

}  // namespace duet::daemon
