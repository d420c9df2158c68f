#include "sim/slot_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace duet::sim {
namespace {

TEST(SlotQueue, UnlimitedAdmitsEveryoneAtOnce) {
  SlotQueue slots(0);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(slots.admit([] {}).granted);
  EXPECT_EQ(slots.running(), 100u);
  EXPECT_EQ(slots.waiting(), 0u);
  EXPECT_FALSE(slots.release());
  EXPECT_EQ(slots.running(), 99u);
}

TEST(SlotQueue, WaitersBeyondTheLimitAreGrantedInArrivalOrder) {
  SlotQueue slots(2);
  std::vector<std::string> granted;
  auto waiter = [&](std::string name) { return [&granted, name] { granted.push_back(name); }; };
  EXPECT_TRUE(slots.admit(waiter("a")).granted);
  EXPECT_TRUE(slots.admit(waiter("b")).granted);
  EXPECT_FALSE(slots.admit(waiter("c")).granted);
  EXPECT_FALSE(slots.admit(waiter("d")).granted);
  EXPECT_EQ(slots.running(), 2u);
  EXPECT_EQ(slots.waiting(), 2u);

  auto next = slots.release();
  ASSERT_TRUE(next);
  next();
  EXPECT_EQ(slots.running(), 2u);  // the slot passed straight to c
  EXPECT_EQ(slots.waiting(), 1u);
  slots.release()();
  EXPECT_EQ(granted, (std::vector<std::string>{"c", "d"}));

  EXPECT_FALSE(slots.release());
  EXPECT_FALSE(slots.release());
  EXPECT_EQ(slots.running(), 0u);
}

TEST(SlotQueue, ACancelledWaiterLeavesTheQueue) {
  SlotQueue slots(1);
  bool c_granted = false;
  slots.admit([] {});
  auto b = slots.admit([] { FAIL() << "b was cancelled"; });
  slots.admit([&] { c_granted = true; });
  EXPECT_TRUE(slots.cancel(b.ticket));
  EXPECT_EQ(slots.waiting(), 1u);
  slots.release()();
  EXPECT_TRUE(c_granted);
}

TEST(SlotQueue, CancelAfterTheGrantTellsTheWaiterItHoldsASlot) {
  SlotQueue slots(1);
  slots.admit([] {});
  auto b = slots.admit([] {});
  auto grant = slots.release();  // b's grant is on its way
  EXPECT_FALSE(slots.cancel(b.ticket));
  EXPECT_EQ(slots.running(), 1u);
  EXPECT_FALSE(slots.release());  // b hands its slot back
  EXPECT_EQ(slots.running(), 0u);
}

TEST(SlotQueue, ReleaseBelowZeroIsHarmless) {
  SlotQueue slots(3);
  EXPECT_FALSE(slots.release());
  EXPECT_EQ(slots.running(), 0u);
  EXPECT_EQ(slots.limit(), 3u);
}

}  // namespace
}  // namespace duet::sim
