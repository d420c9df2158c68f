// trustedProxies: which peers' X-Forwarded-For the router appends to (the key: config_test.cc).

#include "router/trusted_proxies.h"

#include <gtest/gtest.h>

namespace duet::router {
namespace {

namespace ip = boost::asio::ip;

bool trusted(const TrustedProxies& proxies, const std::string& address) {
  return proxies.contains(ip::make_address(address));
}

TEST(TrustedProxies, AddressesAndBlocksOfBothFamilies) {
  TrustedProxies proxies;
  EXPECT_TRUE(proxies.empty());
  proxies.add("10.1.0.0/16");
  proxies.add("192.168.7.7");
  proxies.add("fd00::/8");
  proxies.add("172.16.0.0/12");
  EXPECT_FALSE(proxies.empty());
  EXPECT_TRUE(trusted(proxies, "10.1.255.3"));
  EXPECT_FALSE(trusted(proxies, "10.2.0.1"));
  EXPECT_TRUE(trusted(proxies, "192.168.7.7"));
  EXPECT_FALSE(trusted(proxies, "192.168.7.8"));
  EXPECT_TRUE(trusted(proxies, "172.31.255.255"));  // a prefix that ends inside a byte
  EXPECT_FALSE(trusted(proxies, "172.32.0.0"));
  EXPECT_TRUE(trusted(proxies, "fd12::1"));
  EXPECT_FALSE(trusted(proxies, "fe80::1"));
  EXPECT_TRUE(trusted(proxies, "::ffff:10.1.2.3"));  // IPv4 on an IPv6 socket
  EXPECT_FALSE(trusted(proxies, "::a01:203"));       // not IPv4-mapped: another address
}

TEST(TrustedProxies, EverythingUnderAZeroPrefix) {
  TrustedProxies proxies;
  proxies.add("0.0.0.0/0");
  EXPECT_TRUE(trusted(proxies, "203.0.113.9"));
  EXPECT_FALSE(trusted(proxies, "2001:db8::1"));
}

}  // namespace
}  // namespace duet::router
