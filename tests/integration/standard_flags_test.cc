// Every program answers --version and --help alike (duet/common/standard_flags.h): on stdout,
// exit 0, `NAME VERSION` and a usage that starts with `usage: NAME`.
#include <gtest/gtest.h>

#include "support/duetd_harness.h"

namespace duet::test {
namespace {

TEST(StandardFlags, EveryProgramAnswersVersionAndHelpTheSameWay) {
  for (const char* program : {"duetd", "duet-router", "duetctl", "duet-sim", "duet-devices"}) {
    auto version = run_command({bin(program), "--version"});
    EXPECT_EQ(version.exit_code, 0) << program << ": " << version.out;
    EXPECT_EQ(version.out, std::string(program) + " " + DUET_VERSION + "\n") << program;
    for (const char* help : {"--help", "-h"}) {
      auto usage = run_command({bin(program), help});
      EXPECT_EQ(usage.exit_code, 0) << program << " " << help << ": " << usage.out;
      EXPECT_TRUE(usage.out.starts_with(std::string("usage: ") + program + " ")) << program << ": " << usage.out;
    }
  }
}

}  // namespace
}  // namespace duet::test
