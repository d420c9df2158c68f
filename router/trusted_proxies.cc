#include "router/trusted_proxies.h"

#include <charconv>
#include <stdexcept>

namespace duet::router {

namespace ip = boost::asio::ip;

namespace {

ip::address_v6 as_v6(const ip::address& address) {
  if (address.is_v4()) return ip::make_address_v6(ip::v4_mapped, address.to_v4());
  return address.to_v6();
}

}  // namespace

void TrustedProxies::add(const std::string& entry) {
  auto slash = entry.find('/');
  boost::system::error_code ec;
  auto address = ip::make_address(entry.substr(0, slash), ec);
  if (ec)
    throw std::invalid_argument("expected an IP address or a CIDR block, got \"" + entry + "\"");
  unsigned width = address.is_v4() ? 32 : 128;
  unsigned prefix = width;
  if (slash != std::string::npos) {
    const char* first = entry.data() + slash + 1;
    const char* last = entry.data() + entry.size();
    auto [end, error] = std::from_chars(first, last, prefix);
    if (error != std::errc() || end != last || first == last || prefix > width)
      throw std::invalid_argument("the prefix length of \"" + entry + "\" must be 0 to " +
                                  std::to_string(width));
  }
  networks_.push_back({as_v6(address).to_bytes(), prefix + (128 - width)});
}

bool TrustedProxies::contains(const ip::address& peer) const {
  auto bytes = as_v6(peer).to_bytes();
  for (const auto& network : networks_) {
    unsigned full = network.prefix / 8, rest = network.prefix % 8;
    bool match = std::equal(bytes.begin(), bytes.begin() + full, network.bytes.begin());
    if (match && rest) {
      auto mask = static_cast<unsigned char>(0xff << (8 - rest));
      match = (bytes[full] & mask) == (network.bytes[full] & mask);
    }
    if (match) return true;
  }
  return false;
}

}  // namespace duet::router
