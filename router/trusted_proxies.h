#pragma once
// trustedProxies: the peers whose X-Forwarded-For the router appends to instead of
// replacing (a load balancer in front of it). Addresses and CIDR blocks, IPv4 and IPv6.

#include <boost/asio/ip/address.hpp>
#include <string>
#include <vector>

namespace duet::router {

class TrustedProxies {
 public:
  // Throws std::invalid_argument for an entry that is neither an address nor a CIDR block.
  void add(const std::string& entry);
  bool empty() const { return networks_.empty(); }
  // Whether `peer` (an IPv4-mapped IPv6 address counts as its IPv4 one) is in a block.
  bool contains(const boost::asio::ip::address& peer) const;

 private:
  struct Network {
    boost::asio::ip::address_v6::bytes_type bytes{};  // IPv4 as IPv4-mapped IPv6
    unsigned prefix = 0;                              // bits, of the 128
  };
  std::vector<Network> networks_;
};

}  // namespace duet::router
