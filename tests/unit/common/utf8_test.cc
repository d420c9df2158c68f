#include "duet/common/utf8.h"

#include <gtest/gtest.h>

namespace duet {
namespace {

TEST(Utf8, ValidSequencesHaveTheirLength) {
  EXPECT_EQ(utf8_sequence_length("a"), 1u);
  EXPECT_EQ(utf8_sequence_length("\xc3\xa9"), 2u);          // é
  EXPECT_EQ(utf8_sequence_length("\xe2\x82\xac"), 3u);      // €
  EXPECT_EQ(utf8_sequence_length("\xf0\x9f\x98\x80"), 4u);  // 😀
  EXPECT_EQ(utf8_sequence_length("\xf4\x8f\xbf\xbf"), 4u);  // U+10FFFF
  EXPECT_EQ(first_invalid_utf8("caf\xc3\xa9 \xe2\x82\xac"), std::nullopt);
}

TEST(Utf8, EveryKindOfInvalidByteIsFound) {
  EXPECT_EQ(utf8_sequence_length(""), 0u);
  EXPECT_EQ(utf8_sequence_length("\xff"), 0u);
  EXPECT_EQ(utf8_sequence_length("\x80"), 0u);              // a stray continuation byte
  EXPECT_EQ(utf8_sequence_length("\xc3"), 0u);              // truncated
  EXPECT_EQ(utf8_sequence_length("\xc3("), 0u);             // not a continuation
  EXPECT_EQ(utf8_sequence_length("\xc0\xaf"), 0u);          // overlong '/'
  EXPECT_EQ(utf8_sequence_length("\xe0\x80\xaf"), 0u);      // overlong, 3 bytes
  EXPECT_EQ(utf8_sequence_length("\xed\xa0\x80"), 0u);      // a surrogate
  EXPECT_EQ(utf8_sequence_length("\xf4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(first_invalid_utf8("caf\xe9"), 3u);
  EXPECT_EQ(first_invalid_utf8("ok \xc3\xa9 \xed\xa0\x80"), 6u);
}

}  // namespace
}  // namespace duet
