#include "duet/common/line_splitter.h"

#include <gtest/gtest.h>

namespace duet {
namespace {

TEST(LineSplitter, JoinsPiecesAndSplitsLines) {
  LineSplitter s;
  EXPECT_TRUE(s.feed("{\"a\":").empty());
  auto lines = s.feed("1}\n{\"b\":2}\r\n{\"c\"");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "{\"a\":1}");
  EXPECT_EQ(lines[1], "{\"b\":2}");
  EXPECT_EQ(s.pending(), "{\"c\"");
  lines = s.feed(":3}\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "{\"c\":3}");
  EXPECT_TRUE(s.pending().empty());
}

}  // namespace
}  // namespace duet
