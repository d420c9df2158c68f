#include "daemon/rollout/elapsed.h"

#include <gtest/gtest.h>

namespace duet::daemon {
namespace {

using namespace std::chrono_literals;

TEST(RolloutElapsed, ComparesWithinTheClocksRange) {
  EXPECT_FALSE(has_elapsed(std::chrono::nanoseconds(29s), 30));
  EXPECT_TRUE(has_elapsed(std::chrono::nanoseconds(30s), 30));
  EXPECT_TRUE(has_elapsed(std::chrono::nanoseconds(0), 0));
}

TEST(RolloutElapsed, ADurationPastTheClocksRangeNeverElapses) {
  // 3000000h is 1.08e19 ns, past int64: converted, it wraps negative and "elapses" at once.
  const int64_t seconds = 3'000'000LL * 3600;
  EXPECT_FALSE(has_elapsed(std::chrono::nanoseconds(1s), seconds));
  EXPECT_FALSE(has_elapsed(std::chrono::nanoseconds::max(), seconds));
  EXPECT_TRUE(has_elapsed(std::chrono::milliseconds(std::chrono::hours(3'000'000)), seconds));
}

}  // namespace
}  // namespace duet::daemon
