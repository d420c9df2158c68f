// Static stability with the real duet-router between a real duet-sim and a fake duetd: a
// duetd that comes back without its state, or with an older one, does not take the routes
// to engines that still run; /readyz says why.

#include <gtest/gtest.h>

#include "fake_duetd.h"
#include "router_test_names.h"
#include "support/router_process.h"
#include "support/sim_process.h"
#include "watch_objects.h"

namespace duet::router {
namespace {

class RouterStaticStability : public duet::test::RouterTest {
 protected:
  void SetUp() override {
    sim_ = std::make_unique<SimProcess>(std::vector<std::string>{"--model", "m", "--name", "e-0"});
    start_duetd(state(7, "a", "e-0"));
    start_router("threads: 2\n");
    expect_served_by("d/e-0");
  }

  // Route chat to deployment d, whose one engine `engine` is the sim.
  json state(uint64_t version, const std::string& epoch, const std::string& engine) {
    return test::snapshot(version, json::array({test::backend_route("chat", "d")}),
                          json::array({test::deployment("d")}),
                          json::array({test::engine(engine, "d", endpoint_of(*sim_))}), epoch);
  }
  // The fake duetd goes down and comes back serving `snapshot`.
  void restart_duetd(json snapshot) {
    duetd_.reset();
    start_duetd(std::move(snapshot));
  }
  json readyz() { return json::parse(router_->admin("/readyz").body()); }
  // The router is connected to the new duetd and keeps its state over it.
  bool stale() {
    auto source = readyz()["sources"][0];
    return source["connected"] == true && source["stale"] == true;
  }
  void expect_served_by(const std::string& backend) {
    ProxyClient client(router_->proxy());
    for (int i = 0; i < 10; ++i) {
      auto response = client.post("/v1/completions", completion("hello"));
      ASSERT_EQ(response.result_int(), 200) << response.body();
      EXPECT_EQ(response["x-duet-backend"], backend);
    }
  }

  std::unique_ptr<SimProcess> sim_;
};

TEST_F(RouterStaticStability, DuetdWithoutItsStateDoesNotTakeTheRoutes) {
  restart_duetd(test::empty_snapshot(0, "b"));
  ASSERT_TRUE(duet::test::eventually([&] { return stale(); })) << readyz();
  expect_served_by("d/e-0");
  // Still ready: the router serves, and says what it serves from.
  auto answer = router_->admin("/readyz");
  EXPECT_EQ(answer.result_int(), 200);
  auto source = json::parse(answer.body())["sources"][0];
  EXPECT_EQ(source["stateEpoch"], "a");
  EXPECT_EQ(source["servingLastKnownState"], true);
  EXPECT_EQ(source["reason"],
            "duetd lost its state (stateEpoch a -> b, the new one has no Route or no "
            "EngineDeployment); keeping the last routes");
  EXPECT_NE(router_->process().output().find("event=snapshot_refused"), std::string::npos);
}

TEST_F(RouterStaticStability, SnapshotGoingBackInResourceVersionIsIgnored) {
  // Same epoch, older resourceVersion, and no engines: taken, it would answer 503.
  restart_duetd(test::snapshot(5, json::array({test::backend_route("chat", "d")}),
                               json::array({test::deployment("d")}), json::array(), "a"));
  ASSERT_TRUE(duet::test::eventually([&] { return stale(); })) << readyz();
  expect_served_by("d/e-0");
  EXPECT_EQ(readyz()["sources"][0]["reason"],
            "duetd went back to an older state (resourceVersion 7 -> 5 in stateEpoch a); "
            "keeping the last routes");
}

TEST_F(RouterStaticStability, NewStateEpochWithRoutesIsTaken) {
  // The operator restored duetd's state: routes and engines under a new epoch.
  restart_duetd(state(2, "b", "e-restored"));
  ASSERT_TRUE(duet::test::eventually([&] { return readyz()["sources"][0]["stateEpoch"] == "b"; }))
      << readyz();
  EXPECT_EQ(readyz()["sources"][0]["stale"], false);
  expect_served_by("d/e-restored");
}

}  // namespace
}  // namespace duet::router
