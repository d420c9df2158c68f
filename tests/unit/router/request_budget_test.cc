// limits.maxInFlightRequests and limits.maxBufferedBodyBytes: the shared budget and what one
// request holds of it (the keys: config_test.cc; through the router: request_limits_test.cc).

#include "router/request_budget.h"

#include <gtest/gtest.h>

namespace duet::router {
namespace {

TEST(RequestBudget, TakesUpToItsLimitsAndNothingWhenRefused) {
  RequestBudget budget(2, 100);
  EXPECT_TRUE(budget.enter());
  EXPECT_TRUE(budget.enter());
  EXPECT_FALSE(budget.enter());
  budget.leave();
  EXPECT_TRUE(budget.enter());
  EXPECT_TRUE(budget.reserve(60));
  EXPECT_FALSE(budget.reserve(41));  // refused whole, nothing kept of it
  EXPECT_TRUE(budget.reserve(40));
  budget.release(100);
  EXPECT_TRUE(budget.reserve(100));
}

TEST(RequestBudget, HoldGrowsItsBodyRoomAndGivesAllBackOnce) {
  RequestBudget budget(1, 100);
  {
    BudgetHold hold(budget);
    EXPECT_TRUE(hold.enter());
    EXPECT_TRUE(hold.reserve_body(30));
    EXPECT_TRUE(hold.reserve_body(20));  // already held
    EXPECT_TRUE(hold.reserve_body(90));  // 60 more
    EXPECT_EQ(hold.body_bytes(), 90u);
    EXPECT_FALSE(hold.reserve_body(101));
    EXPECT_EQ(hold.body_bytes(), 90u);
    EXPECT_FALSE(budget.enter());
    hold.release();
    hold.release();  // twice gives back nothing more
    EXPECT_TRUE(budget.enter());
    budget.leave();
    EXPECT_TRUE(hold.reserve_body(100));
  }  // the destructor gives back the rest
  EXPECT_TRUE(budget.reserve(100));
}

}  // namespace
}  // namespace duet::router
