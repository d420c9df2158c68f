// SPEC §5 step 5: the canary header, then the sticky hash against the rollout weight.

#include <gtest/gtest.h>

#include "router/route_decision.h"
#include "watch_objects.h"

namespace duet::router {
namespace {

using test::json;

struct VersionChoice : ::testing::Test {
  api::Route route() const {
    api::Route r;
    r.canary_header_name = "x-canary";
    r.canary_header_value = "true";
    return r;
  }
  Deployment with_weight(uint32_t weight) const {
    Deployment d;
    d.canary_weight = weight;
    return d;
  }
  Track choose(uint32_t weight, std::string_view header, std::string_view key) const {
    bool forced = false;
    Deployment d = with_weight(weight);
    return choose_track(route(), &d, {header, key}, forced);
  }
};

TEST_F(VersionChoice, HeaderForcesEitherVersionWhateverTheWeight) {
  for (uint32_t weight : {0u, 10u, 100u}) {
    EXPECT_EQ(choose(weight, "true", "alice"), Track::canary);
    EXPECT_EQ(choose(weight, "false", "alice"), Track::stable);
  }
}

TEST_F(VersionChoice, WeightSplitsSubjectsAndEachSubjectStays) {
  int canary = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string key = "user-";
    key += std::to_string(i);
    Track t = choose(10, "", key);
    canary += t == Track::canary;
    ASSERT_EQ(choose(10, "", key), t);       // same subject, same version
    ASSERT_EQ(choose(10, "maybe", key), t);  // an unknown header value is ignored
    if (t == Track::canary) {
      ASSERT_EQ(choose(50, "", key), Track::canary);  // raising the weight keeps it there
    }
  }
  EXPECT_NEAR(canary, 1000, 150);
  EXPECT_EQ(choose(0, "", "user-1"), Track::stable);
  EXPECT_EQ(choose(100, "", "user-1"), Track::canary);
}

// A user's bucket is part of the contract: if it moved on an upgrade, users in a running
// canary would switch versions mid-conversation. These are the buckets of duet 0.1.
TEST_F(VersionChoice, StickyBucketsDoNotMoveBetweenReleases) {
  EXPECT_EQ(sticky_bucket(""), 7458u);
  EXPECT_EQ(sticky_bucket("alice"), 5757u);
  EXPECT_EQ(sticky_bucket("bob"), 5004u);
  EXPECT_EQ(sticky_bucket("203.0.113.7"), 3286u);
  EXPECT_EQ(sticky_bucket("user-42"), 3274u);
}

TEST_F(VersionChoice, DecisionFallsBackToStableButNotToCanaryWhenStableWasAskedFor) {
  SourceState state;
  EndpointLoads loads;
  auto route = test::backend_route("chat", "d");
  route["spec"]["canaryHeader"] = {{"name", "x-canary"}, {"value", "true"}};
  state.apply(
      test::snapshot(1, json::array({route}), json::array({test::deployment("d", 10)}),
                     json::array({test::engine("c0", "d", "127.0.0.1:1", true, "canary")})));
  auto table = RoutingTable::build({&state}, loads);
  RequestBody body("{}");
  Rng rng(1);
  auto now = std::chrono::steady_clock::now();
  Decision forced_stable = decide(table->routes()[0], body, {"false", "alice"});
  EXPECT_EQ(pick(forced_stable, rng, {}, now).endpoint, nullptr);  // no stable: 503, not canary
  Decision sticky = decide(table->routes()[0], body, {"", "alice"});
  auto p = pick(sticky, rng, {}, now);
  ASSERT_TRUE(p.endpoint);  // no stable Ready: the canary serves rather than nothing
  EXPECT_EQ(p.endpoint->name, "c0");
}

}  // namespace
}  // namespace duet::router
