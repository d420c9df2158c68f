#include "sim/fault_injector.h"

#include <gtest/gtest.h>

namespace duet::sim {
namespace {

using Arrival = FaultInjector::Arrival;

TEST(FaultInjector, ServesNThenCrashes) {
  FaultInjector faults(2, std::nullopt, 0, 1);
  EXPECT_EQ(faults.on_inference_request(), Arrival::serve);
  EXPECT_EQ(faults.on_inference_request(), Arrival::serve);
  EXPECT_EQ(faults.on_inference_request(), Arrival::crash);
}

TEST(FaultInjector, CrashAfterZeroCrashesOnTheFirst) {
  FaultInjector faults(0, std::nullopt, 0, 1);
  EXPECT_EQ(faults.on_inference_request(), Arrival::crash);
}

TEST(FaultInjector, ServesNThenHangsForGood) {
  FaultInjector faults(std::nullopt, 1, 0, 1);
  EXPECT_EQ(faults.on_inference_request(), Arrival::serve);
  EXPECT_FALSE(faults.hung());
  EXPECT_EQ(faults.on_inference_request(), Arrival::hang);
  EXPECT_TRUE(faults.hung());
  EXPECT_EQ(faults.on_inference_request(), Arrival::hang);
}

TEST(FaultInjector, NoFaultsByDefault) {
  FaultInjector faults(std::nullopt, std::nullopt, 0, 1);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(faults.on_inference_request(), Arrival::serve);
    EXPECT_FALSE(faults.draw_failure());
  }
}

TEST(FaultInjector, FailRateOneAlwaysFails) {
  FaultInjector faults(std::nullopt, std::nullopt, 1.0, 7);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(faults.draw_failure());
}

// --crash-after-tokens with --crash-rate: a share of answers break off, the same ones for a
// seed, on a draw sequence apart from --fail-rate's.
TEST(FaultInjector, AnswerCrashesAreAShareAndRepeatForASeed) {
  AnswerCrash crash{5, CrashMode::stall, 0.25};
  FaultInjector a(std::nullopt, std::nullopt, 0.5, 7, crash);
  FaultInjector b(std::nullopt, std::nullopt, 0.0, 7, crash);
  int crashes = 0;
  for (int i = 0; i < 10000; ++i) {
    auto at = a.draw_answer_crash();
    EXPECT_EQ(at, b.draw_answer_crash());
    a.draw_failure();  // the 500s' draws do not move the crashes'
    if (at) {
      EXPECT_EQ(*at, 5u);
    }
    crashes += at.has_value();
  }
  EXPECT_NEAR(crashes, 2500, 200);
  EXPECT_EQ(a.crash_mode(), CrashMode::stall);
  FaultInjector every(std::nullopt, std::nullopt, 0, 7, {0, CrashMode::rst, 1.0});
  for (int i = 0; i < 100; ++i) EXPECT_EQ(every.draw_answer_crash(), 0u);
  FaultInjector none(std::nullopt, std::nullopt, 0, 7);
  EXPECT_FALSE(none.draw_answer_crash());
}

TEST(FaultInjector, CrashModesByName) {
  EXPECT_EQ(parse_crash_mode("rst"), CrashMode::rst);
  EXPECT_EQ(parse_crash_mode("error-event-then-done"), CrashMode::error_event_then_done);
  EXPECT_EQ(parse_crash_mode("no-finish"), CrashMode::no_finish);
  EXPECT_FALSE(parse_crash_mode("RST"));
  EXPECT_FALSE(parse_crash_mode(""));
}

TEST(FaultInjector, FailRateIsAShareAndRepeatsForASeed) {
  FaultInjector a(std::nullopt, std::nullopt, 0.3, 7);
  FaultInjector b(std::nullopt, std::nullopt, 0.3, 7);
  int failures = 0;
  for (int i = 0; i < 10000; ++i) {
    bool fails = a.draw_failure();
    EXPECT_EQ(fails, b.draw_failure());
    failures += fails;
  }
  EXPECT_NEAR(failures, 3000, 200);
}

}  // namespace
}  // namespace duet::sim
