// duetd's stateEpoch with real processes: kept across kill -9 with a resourceVersion that
// never goes back, new when the state is lost; and a real duet-router watching that duetd
// keeps routing to the engines that still run when it comes back without its state.

#include <gtest/gtest.h>

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <iostream>

#include "support/duetd_harness.h"
#include "support/router_process.h"
#include "support/watch_client.h"

namespace duet::test {
namespace {

using nlohmann::json;

// The first line of a watch stream; null when none comes.
json first_event(const DuetdHarness& d, const std::string& target = "/apis/v1/watch") {
  WatchClient watch(d.api(), target);
  if (!watch.run_until([&] { return !watch.events().empty(); })) return nullptr;
  return watch.events()[0];
}

// Two duet-sim replicas serving model m, and a Route to them.
std::string manifests() {
  return sim_deployment_yaml("sim", 2, ", --model, m") +
         "---\napiVersion: duet/v1alpha1\nkind: Route\nmetadata: {name: chat}\n"
         "spec:\n  match: {pathPrefix: /v1/}\n  backend: sim\n";
}

void start_sims(DuetdHarness& d) {
  auto applied = d.duetctl({"apply", "-f", d.write("sim.yaml", manifests())});
  ASSERT_EQ(applied.exit_code, 0) << applied.out;
  ASSERT_TRUE(eventually([&] { return d.ready_engines("sim") == 2; }, 30s))
      << d.get("/apis/v1/engines").dump();
}

void wipe_state(const DuetdHarness& d) { std::filesystem::remove_all(d.dir() / "state"); }

TEST(StateEpoch, KeptAcrossKill9WithTheResourceVersionNeverGoingBack) {
  DuetdHarness d;
  ASSERT_NO_FATAL_FAILURE(start_sims(d));
  // Replicas turning Ready moved the resourceVersion past the one in the checkpoint.
  auto before = first_event(d);
  ASSERT_EQ(before["type"], "SNAPSHOT") << before;
  std::string epoch = before["stateEpoch"];
  EXPECT_EQ(epoch.size(), 16u);
  d.restart(SIGKILL);
  auto after = first_event(d);
  EXPECT_EQ(after["stateEpoch"], epoch);
  EXPECT_GE(after["resourceVersion"].get<uint64_t>(), before["resourceVersion"].get<uint64_t>());

  // A client resumes only within the same state.
  auto since =
      "/apis/v1/watch?resourceVersion=" + std::to_string(after["resourceVersion"].get<uint64_t>());
  EXPECT_EQ(first_event(d, since + "&stateEpoch=0123456789abcdef")["type"], "SNAPSHOT");
  auto resumed = first_event(d, since + "&stateEpoch=" + epoch);
  EXPECT_EQ(resumed["type"], "BOOKMARK") << resumed;
  EXPECT_EQ(resumed["stateEpoch"], epoch);
}

// The node's name rides in every snapshot, for routers over several nodes (x-duet-backend).
TEST(StateEpoch, TheSnapshotNamesTheNode) {
  DuetdHarness named({"--node-name", "gpu-node-1"});
  EXPECT_EQ(first_event(named)["node"], "gpu-node-1");
  DuetdHarness plain;
  char host[256] = "";
  ::gethostname(host, sizeof host - 1);
  EXPECT_EQ(first_event(plain)["node"], host);
  auto bad = run_command({bin("duetd"), "--node-name", "a b", "--api", "unix:" + (plain.dir() / "x.sock").string(),
                          "--state-dir", (plain.dir() / "x").string()});
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  EXPECT_NE(bad.out.find("nodeName: expected letters"), std::string::npos) << bad.out;
}

TEST(StateEpoch, NewWhenDuetdStartsWithoutItsState) {
  DuetdHarness d;
  ASSERT_NO_FATAL_FAILURE(start_sims(d));
  auto before = first_event(d);
  d.restart(SIGKILL, [&] { wipe_state(d); });
  auto after = first_event(d);
  ASSERT_EQ(after["type"], "SNAPSHOT") << after;
  EXPECT_NE(after["stateEpoch"], before["stateEpoch"]);
  EXPECT_EQ(after["deployments"], json::array());
}

class RouterOverDuetd : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(start_sims(duetd_));
    auto config = duetd_.write("router.yaml",
                               "listen: [{address: \"127.0.0.1:0\"}]\n"
                               "sources: [\"" +
                                   duetd_.api().to_string() + "\"]\n");
    router_ = std::make_unique<RouterProcess>(config, std::vector<std::string>{});
    ASSERT_TRUE(eventually([&] { return source()["synced"] == true; })) << readyz();
    expect_served();
  }
  void TearDown() override {
    if (router_ && HasFailure())
      std::cerr << "--- duet-router output ---\n" << router_->process().output();
  }

  json readyz() { return json::parse(router_->admin("/readyz").body()); }
  json source() { return readyz()["sources"][0]; }
  void expect_served() {
    ProxyClient client(router_->proxy());
    for (int i = 0; i < 10; ++i) {
      auto response = client.post("/v1/completions", completion("hello"));
      ASSERT_EQ(response.result_int(), 200) << response.body();
      EXPECT_EQ(response["x-duet-route"], "chat");
    }
  }

  DuetdHarness duetd_;
  std::unique_ptr<RouterProcess> router_;
};

TEST_F(RouterOverDuetd, RestartedDuetdIsFollowedAndOneWithoutItsStateIsNot) {
  auto before = source();
  // Killed and restarted with its state: the router takes the new snapshot (a newer
  // resourceVersion of the same epoch).
  duetd_.restart(SIGKILL);
  ASSERT_TRUE(eventually([&] {
    auto now = source();
    return now["connected"] == true && now["resourceVersion"] > before["resourceVersion"];
  })) << readyz();
  EXPECT_EQ(source()["stale"], false) << readyz();
  EXPECT_EQ(source()["stateEpoch"], before["stateEpoch"]);
  expect_served();

  // Killed, its state dir wiped, started again: empty under a new epoch. The engines it
  // started still run; the router goes on sending them traffic and says why.
  duetd_.restart(SIGKILL, [&] { wipe_state(duetd_); });
  ASSERT_TRUE(eventually([&] { return source()["stale"] == true; })) << readyz();
  auto answer = router_->admin("/readyz");
  EXPECT_EQ(answer.result_int(), 200);
  auto stale = json::parse(answer.body())["sources"][0];
  EXPECT_NE(stale["reason"].get<std::string>().find("duetd lost its state (stateEpoch " +
                                                    before["stateEpoch"].get<std::string>()),
            std::string::npos)
      << stale;
  expect_served();
}

}  // namespace
}  // namespace duet::test
