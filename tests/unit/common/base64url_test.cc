#include "duet/base64url.h"

#include <gtest/gtest.h>

namespace duet {
namespace {

TEST(Base64url, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    auto encoded = base64url_encode(bytes);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos) << encoded;
    EXPECT_EQ(base64url_decode(encoded), bytes);
    bytes.push_back(static_cast<char>(i * 37 + 250));
  }
}

TEST(Base64url, KnownValuesAndPadding) {
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("-_8"), "\xfb\xff");
  EXPECT_EQ(base64url_decode("aGk="), "hi");  // padded input is accepted
}

TEST(Base64url, RejectsOtherAlphabetsAndImpossibleLengths) {
  EXPECT_FALSE(base64url_decode("ab+c"));
  EXPECT_FALSE(base64url_decode("ab/c"));
  EXPECT_FALSE(base64url_decode("a b"));
  EXPECT_FALSE(base64url_decode("abcde"));  // 5 characters cannot come from whole bytes
}

}  // namespace
}  // namespace duet
