#include "duet/common/address.h"

#include <gtest/gtest.h>

namespace duet {
namespace {

TEST(Address, ParsesEveryForm) {
  auto u = Address::parse("unix:/run/duet/duetd.sock");
  EXPECT_EQ(u.kind, Address::Kind::unix_socket);
  EXPECT_EQ(u.path, "/run/duet/duetd.sock");
  for (const char* text : {"tcp://127.0.0.1:7070", "http://127.0.0.1:7070/", "127.0.0.1:7070"}) {
    auto a = Address::parse(text);
    EXPECT_EQ(a.kind, Address::Kind::tcp) << text;
    EXPECT_EQ(a.host, "127.0.0.1") << text;
    EXPECT_EQ(a.port, 7070) << text;
    EXPECT_FALSE(a.tls) << text;
  }
  EXPECT_EQ(Address::parse(":8080").host, "0.0.0.0");
  auto secure = Address::parse("https://[::1]:7443");
  EXPECT_TRUE(secure.tls);
  EXPECT_EQ(secure.host, "::1");
  EXPECT_EQ(secure.port, 7443);
  // to_string reads back as the same address, scheme included.
  for (const char* text : {"https://10.0.0.12:7443", "10.0.0.12:7070", "unix:/run/x.sock"})
    EXPECT_EQ(Address::parse(text).to_string(), text);
}

TEST(Address, RejectsBadInput) {
  EXPECT_THROW(Address::parse("unix:"), std::invalid_argument);
  EXPECT_THROW(Address::parse("localhost"), std::invalid_argument);
  EXPECT_THROW(Address::parse("127.0.0.1:99999"), std::invalid_argument);
  EXPECT_THROW(Address::parse("127.0.0.1:80x"), std::invalid_argument);
}

}  // namespace
}  // namespace duet
