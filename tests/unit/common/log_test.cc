// The logger's line format: values from clients (paths, names, headers) are escaped so that
// they cannot forge a line or carry terminal control bytes or bytes that are not UTF-8.
#include "duet/common/log.h"

#include <gtest/gtest.h>

namespace duet {
namespace {

std::string line_of(std::initializer_list<Field> fields) {
  testing::internal::CaptureStderr();
  Logger("test").warn("event", fields);
  return testing::internal::GetCapturedStderr();
}

TEST(Logger, PlainValuesStayBareAndOthersAreQuotedAndEscaped) {
  EXPECT_NE(line_of({{"k", "plain"}}).find(" k=plain\n"), std::string::npos);
  EXPECT_NE(line_of({{"k", "caf\xc3\xa9"}}).find(" k=caf\xc3\xa9\n"), std::string::npos);
  EXPECT_NE(line_of({{"k", "a b"}}).find(" k=\"a b\"\n"), std::string::npos);
  auto line = line_of({{"path", "/a\"\\\n\x1b[31m\r\xff\xc3(\xed\xa0\x80"}});
  EXPECT_NE(line.find(R"( path="/a\"\\\n\x1b[31m\x0d\xff\xc3(\xed\xa0\x80")"), std::string::npos)
      << line;
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line
}

}  // namespace
}  // namespace duet
