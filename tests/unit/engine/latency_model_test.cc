#include "sim/latency_model.h"

#include <gtest/gtest.h>

namespace duet::sim {
namespace {

using namespace std::chrono_literals;
using Clock = LatencyModel::Clock;

const Clock::time_point kStart = Clock::time_point() + 1000s;

TEST(LatencyModel, FirstTokenAfterTtftThenOneEveryTpot) {
  LatencyModel model(100ms, 20ms);
  EXPECT_EQ(model.token_due(kStart, 0), kStart + 100ms);
  EXPECT_EQ(model.token_due(kStart, 1), kStart + 120ms);
  EXPECT_EQ(model.token_due(kStart, 4), kStart + 180ms);
}

TEST(LatencyModel, WholeAnswerIsDueWithItsLastToken) {
  LatencyModel model(100ms, 20ms);
  EXPECT_EQ(model.completion_due(kStart, 1), kStart + 100ms);
  EXPECT_EQ(model.completion_due(kStart, 5), kStart + 180ms);
}

TEST(LatencyModel, CountsTheTokensDueByNow) {
  LatencyModel model(100ms, 20ms);
  EXPECT_EQ(model.tokens_due(kStart, kStart + 99ms, 5), 0u);
  EXPECT_EQ(model.tokens_due(kStart, kStart + 100ms, 5), 1u);
  EXPECT_EQ(model.tokens_due(kStart, kStart + 119ms, 5), 1u);
  EXPECT_EQ(model.tokens_due(kStart, kStart + 120ms, 5), 2u);
  // A timer that fired very late catches up, but never past the end.
  EXPECT_EQ(model.tokens_due(kStart, kStart + 10s, 5), 5u);
}

TEST(LatencyModel, ZeroTpotMakesEveryTokenDueWithTheFirst) {
  LatencyModel model(50ms, 0ms);
  EXPECT_EQ(model.tokens_due(kStart, kStart + 49ms, 8), 0u);
  EXPECT_EQ(model.tokens_due(kStart, kStart + 50ms, 8), 8u);
  EXPECT_FALSE(model.instant());
}

TEST(LatencyModel, InstantOnlyWithoutAnyDelay) {
  EXPECT_TRUE(LatencyModel(0ms, 0ms).instant());
  EXPECT_FALSE(LatencyModel(0ms, 1ms).instant());
  EXPECT_EQ(LatencyModel(0ms, 0ms).completion_due(kStart, 100), kStart);
}

}  // namespace
}  // namespace duet::sim
