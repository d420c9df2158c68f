#include "daemon/api/percent_encoding.h"

#include <gtest/gtest.h>

namespace duet::daemon {
namespace {

TEST(PercentEncoding, EncodesAllButUnreservedBytes) {
  EXPECT_EQ(percent_encode("chat-small_v1.2~x"), "chat-small_v1.2~x");
  EXPECT_EQ(percent_encode("my app #1?a=b&c/d+e%.yaml"),
            "my%20app%20%231%3Fa%3Db%26c%2Fd%2Be%25.yaml");
  EXPECT_EQ(percent_encode("caf\xe9.yaml"), "caf%E9.yaml");  // Latin-1: any byte goes through
  EXPECT_EQ(percent_encode(std::string("a\0b\r\n", 5)), "a%00b%0D%0A");
}

TEST(PercentEncoding, DecodesWhatItEncodes) {
  for (std::string text : {"", "plain", "my app #1?a=b&c/d+e%.yaml", "caf\xe9.yaml", "\xff\x80"})
    EXPECT_EQ(percent_decode(percent_encode(text)), text);
  EXPECT_EQ(percent_decode("a%2fb+c"), "a/b+c");  // lower-case hex; '+' is not a space
}

TEST(PercentEncoding, MalformedEscapesAreRefused) {
  EXPECT_EQ(percent_decode("100%"), std::nullopt);
  EXPECT_EQ(percent_decode("%4"), std::nullopt);
  EXPECT_EQ(percent_decode("%zz"), std::nullopt);
}

}  // namespace
}  // namespace duet::daemon
