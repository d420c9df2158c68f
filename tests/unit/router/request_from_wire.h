#pragma once
// A client's request as the router holds it, read from the bytes a client would send: for
// the tests of what is done with a request once it is read.

#include <gtest/gtest.h>

#include <string_view>

#include "router/request_parser.h"

namespace duet::router::test {

inline ProxyRequest request_from_wire(std::string_view wire) {
  RequestParser parser(64 * 1024, 1024 * 1024);
  boost::system::error_code ec;
  while (!ec && !wire.empty() && !parser.is_done()) wire.remove_prefix(parser.put(wire, ec));
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  return parser.release();
}

}  // namespace duet::router::test
