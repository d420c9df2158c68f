// Which new duetd states may replace the one a router routes with (static stability).

#include "router/state_guard.h"

#include <gtest/gtest.h>

#include "watch_objects.h"

namespace duet::router {
namespace {

using test::json;

// One Route to deployment d with engine d-0, at `version` of `epoch`.
SourceState routable(uint64_t version, const std::string& epoch) {
  SourceState state;
  state.apply(test::snapshot(version, json::array({test::backend_route("r", "d")}),
                             json::array({test::deployment("d")}),
                             json::array({test::engine("d-0", "d", "127.0.0.1:1")}), epoch));
  return state;
}

SourceState empty(uint64_t version, const std::string& epoch) {
  SourceState state;
  state.apply(test::empty_snapshot(version, epoch));
  return state;
}

TEST(StateGuard, TakesAnythingBeforeTheFirstSnapshot) {
  EXPECT_EQ(refusal(SourceState{}, empty(0, "b")), std::nullopt);
}

TEST(StateGuard, RefusesAnEmptyStateFromANewEpochAfterARoutableOne) {
  auto reason = refusal(routable(40, "a"), empty(0, "b"));
  ASSERT_TRUE(reason);
  EXPECT_EQ(*reason,
            "duetd lost its state (stateEpoch a -> b, the new one has no Route or no "
            "EngineDeployment); keeping the last routes");
  // Routes without a deployment route nothing either; nor does a duetd without an epoch.
  SourceState routes_only;
  routes_only.apply(test::snapshot(3, json::array({test::backend_route("r", "d")}), json::array(),
                                   json::array(), "b"));
  EXPECT_TRUE(refusal(routable(40, "a"), routes_only));
  EXPECT_TRUE(refusal(routable(40, ""), empty(50, "")));
}

TEST(StateGuard, TakesARoutableStateFromANewEpoch) {
  EXPECT_EQ(refusal(routable(40, "a"), routable(2, "b")), std::nullopt);
  EXPECT_EQ(refusal(routable(40, ""), routable(2, "")), std::nullopt);  // no epoch: RV not compared
}

TEST(StateGuard, TakesAnEmptyStateWhenNothingWasRoutable) {
  EXPECT_EQ(refusal(empty(5, "a"), empty(0, "b")), std::nullopt);
}

TEST(StateGuard, RefusesAnOlderResourceVersionOfTheSameEpoch) {
  auto reason = refusal(routable(40, "a"), routable(39, "a"));
  ASSERT_TRUE(reason);
  EXPECT_EQ(*reason,
            "duetd went back to an older state (resourceVersion 40 -> 39 in stateEpoch a); "
            "keeping the last routes");
  EXPECT_EQ(refusal(routable(40, "a"), routable(40, "a")), std::nullopt);
  EXPECT_EQ(refusal(routable(40, "a"), routable(41, "a")), std::nullopt);
}

TEST(StateGuard, TakesAnEmptyStateOfTheSameEpochThatMovedOn) {
  // Everything deleted while the router was away: a change the operator made.
  EXPECT_EQ(refusal(routable(40, "a"), empty(45, "a")), std::nullopt);
}

}  // namespace
}  // namespace duet::router
