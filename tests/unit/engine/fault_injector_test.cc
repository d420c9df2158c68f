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
