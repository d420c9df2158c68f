#include "duet/common/accept_backoff.h"

#include <gtest/gtest.h>

namespace duet {
namespace {

using namespace std::chrono_literals;

TEST(AcceptBackoff, DoublesToASecondSaysSoOnceAndStartsOverAfterASuccess) {
  AcceptBackoff backoff;
  EXPECT_EQ(backoff.succeeded(), 0u);  // nothing failed
  std::vector<std::chrono::milliseconds> waits;
  std::vector<bool> first;
  for (int i = 0; i < 6; ++i) {
    waits.push_back(backoff.failed());
    first.push_back(backoff.first_failure());
  }
  EXPECT_EQ(waits, (std::vector<std::chrono::milliseconds>{100ms, 200ms, 400ms, 800ms, 1s, 1s}));
  EXPECT_EQ(first, (std::vector<bool>{true, false, false, false, false, false}));
  EXPECT_EQ(backoff.succeeded(), 6u);
  EXPECT_EQ(backoff.failed(), 100ms);
  EXPECT_TRUE(backoff.first_failure());
}

}  // namespace
}  // namespace duet
