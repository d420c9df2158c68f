// Planned stops drain (issue 19): a real duetd runs duet-sim replicas, a real duet-router
// watches it and reports what it has in flight on each engine. A replica scaled away while
// it streams answers is Draining (no new request reaches it) until its last stream ends, and
// is stopped only then; one whose stream outlasts terminationGracePeriodSeconds is stopped
// at the grace. These replicas run with --shutdown-timeout-ms 0: duet-sim cuts every open
// stream when it gets SIGTERM (an error event, no [DONE]), so a whole stream is proof that
// the signal came after it.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "duet/common/file_text.h"
#include "support/duetd_harness.h"
#include "support/fake_notify_socket.h"
#include "support/router_process.h"
#include "support/sim_process.h"

namespace duet::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class Drains : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && router_) std::cerr << "duet-router output:\n" << router_->process().output();
    if (HasFailure()) std::cerr << "duetd output:\n" << duetd_.process().output();
  }

  // `replicas` duet-sim replicas of `chat` answering a token every 100 ms, behind a Route
  // that balances on requests in flight.
  void apply(int replicas, int grace_seconds) {
    auto yaml = sim_deployment_yaml(
        "chat", replicas,
        ", --model, m, --name, \"${NAME}\", --tpot-ms, \"100\", --shutdown-timeout-ms, \"0\"");
    const std::string harness_grace = "terminationGracePeriodSeconds: 5";
    yaml.replace(yaml.find(harness_grace), harness_grace.size(),
                 "terminationGracePeriodSeconds: " + std::to_string(grace_seconds));
    yaml += "---\napiVersion: duet/v1alpha1\nkind: Route\nmetadata: {name: chat}\n"
            "spec: {match: {pathPrefix: /v1/}, backend: chat, scheduling: {policy: leastRequest}}\n";
    auto result = duetd_.duetctl({"apply", "-f", duetd_.write("chat.yaml", yaml)});
    ASSERT_EQ(result.exit_code, 0) << result.out;
  }

  void start(int replicas, int grace_seconds, std::map<std::string, std::string> router_env = {}) {
    ASSERT_NO_FATAL_FAILURE(apply(replicas, grace_seconds));
    ASSERT_TRUE(eventually([&] { return duetd_.ready_engines("chat") == replicas; }, 30s));
    auto config = duetd_.write("router.yaml", "listen: [{address: \"127.0.0.1:0\"}]\n"
                                              "sources: [\"" + duetd_.api().to_string() + "\"]\n");
    router_ = std::make_unique<RouterProcess>(config, std::vector<std::string>{}, std::move(router_env));
    ASSERT_TRUE(eventually([&] { return router_->endpoints("chat").size() == static_cast<std::size_t>(replicas); }, 20s));
  }

  // Streams of `tokens` tokens, opened one after the other: in-flight balancing spreads
  // them over the replicas. Returns once each has its first token.
  std::vector<std::shared_ptr<StreamRecord>> open_streams(int count, int tokens) {
    std::vector<std::shared_ptr<StreamRecord>> streams;
    for (int i = 0; i < count; ++i) {
      streams.push_back(client_.open(router_->proxy(), "/v1/completions",
                                     completion("question " + std::to_string(i), tokens, true)));
      EXPECT_TRUE(eventually([&] { return !streams.back()->pieces().empty(); }, 10s));
    }
    return streams;
  }

  // The first of `streams` that `replica` answers; null when none.
  static std::shared_ptr<StreamRecord> on_replica(const std::vector<std::shared_ptr<StreamRecord>>& streams,
                                                  const std::string& replica) {
    for (const auto& s : streams)
      if (s->header("x-duet-replica") == replica) return s;
    return nullptr;
  }

  json engine(const std::string& name) {
    auto engines = duetd_.get("/apis/v1/engines");
    for (const auto& e : engines["items"])
      if (e["name"] == name) return e;
    return nullptr;
  }
  bool has_event(const std::string& object, const std::string& reason) {
    auto events = duetd_.get("/apis/v1/deployments/chat/events");
    for (const auto& e : events["items"])
      if (e["object"] == object && e["reason"] == reason) return true;
    return false;
  }
  std::string replica_log(const std::string& name) {
    return read_text_file(duetd_.dir() / "state" / "logs" / (name + ".log")).value_or("");
  }
  static int tokens_in(const std::string& body) {
    int n = 0;
    for (auto at = body.find(" tok"); at != std::string::npos; at = body.find(" tok", at + 1)) ++n;
    return n;
  }

  DuetdHarness duetd_;
  std::unique_ptr<RouterProcess> router_;
  StreamClient client_;
};

TEST_F(Drains, AReplicaScaledAwayFinishesItsStreamsBeforeItStops) {
  ASSERT_NO_FATAL_FAILURE(start(2, 30));
  auto streams = open_streams(4, 30);  // 3 s each
  int on_leaving = 0;
  for (const auto& s : streams) on_leaving += s->header("x-duet-replica") == "chat-1";
  ASSERT_GE(on_leaving, 1) << "no stream on chat-1";
  ASSERT_NO_FATAL_FAILURE(apply(1, 30));
  ASSERT_TRUE(eventually([&] { return engine("chat-1").value("state", "") == "Draining"; }, 10s));
  // While it drains, new requests go to chat-0 only.
  for (int i = 0; i < 4; ++i) {
    auto r = router_->post("/v1/completions", completion("new " + std::to_string(i)));
    EXPECT_EQ(r.result_int(), 200) << r.body();
    EXPECT_EQ(std::string(r["x-duet-replica"]), "chat-0");
  }
  for (const auto& s : streams) {
    ASSERT_TRUE(eventually([&] { return s->ended(); }, 20s));
    EXPECT_FALSE(s->error()) << s->error().message();
    EXPECT_EQ(tokens_in(s->body()), 30) << s->body();
    EXPECT_NE(s->body().find("data: [DONE]"), std::string::npos) << s->body();
  }
  ASSERT_TRUE(eventually([&] { return engine("chat-1").is_null(); }, 15s));
  EXPECT_TRUE(has_event("chat-1", "Draining"));
  EXPECT_TRUE(has_event("chat-1", "Drained"));
  EXPECT_FALSE(has_event("chat-1", "DrainTimedOut"));
  EXPECT_NE(replica_log("chat-1").find("event=stopping signal=15"), std::string::npos) << replica_log("chat-1");
}

// duetd killed in the middle of a drain: the next one adopts the replica, which may still
// have requests on it, and drains it again rather than stopping it at once.
TEST_F(Drains, ADuetdKilledDuringADrainResumesItAfterItsRestart) {
  ASSERT_NO_FATAL_FAILURE(start(2, 30));
  auto streams = open_streams(2, 50);  // 5 s each, one a replica
  auto leaving = on_replica(streams, "chat-1");
  ASSERT_TRUE(leaving) << "no stream on chat-1";
  ASSERT_NO_FATAL_FAILURE(apply(1, 30));
  ASSERT_TRUE(eventually([&] { return engine("chat-1").value("state", "") == "Draining"; }, 10s));
  duetd_.restart(SIGKILL);
  ASSERT_TRUE(eventually([&] { return leaving->ended(); }, 20s));
  EXPECT_FALSE(leaving->error()) << leaving->error().message();
  EXPECT_EQ(tokens_in(leaving->body()), 50) << leaving->body();
  EXPECT_NE(leaving->body().find("data: [DONE]"), std::string::npos);
  ASSERT_TRUE(eventually([&] { return engine("chat-1").is_null(); }, 15s));
  EXPECT_TRUE(has_event("chat-1", "Drained"));  // by the restarted duetd
}

TEST_F(Drains, AStreamLongerThanTheGraceIsCutAtTheGrace) {
  ASSERT_NO_FATAL_FAILURE(start(2, 2));
  auto streams = open_streams(2, 200);  // 20 s each, one a replica
  auto leaving = on_replica(streams, "chat-1");
  ASSERT_TRUE(leaving) << "no stream on chat-1";
  auto scaled = std::chrono::steady_clock::now();
  ASSERT_NO_FATAL_FAILURE(apply(1, 2));
  ASSERT_TRUE(eventually([&] { return leaving->ended(); }, 15s));
  EXPECT_GE(std::chrono::steady_clock::now() - scaled, 2s);  // not before the grace
  EXPECT_EQ(leaving->body().find("data: [DONE]"), std::string::npos);  // a client sees the cut
  EXPECT_NE(leaving->body().find("\"error\""), std::string::npos) << leaving->body();
  ASSERT_TRUE(eventually([&] { return engine("chat-1").is_null(); }, 15s));
  EXPECT_TRUE(has_event("chat-1", "DrainTimedOut"));
}

// Host maintenance: `duetctl drain` cordons the node and drains every replica (their streams
// finish first), and returns once none runs; nothing is placed while cordoned, across a
// duetd restart too; `duetctl uncordon` places them again.
TEST_F(Drains, DuetctlDrainEmptiesTheNodeAndUncordonFillsItAgain) {
  ASSERT_NO_FATAL_FAILURE(start(2, 30));
  auto streams = open_streams(2, 20);  // 2 s each
  auto drained = duetd_.duetctl({"drain", "--timeout", "30"});
  EXPECT_EQ(drained.exit_code, 0) << drained.out;
  EXPECT_NE(drained.out.find("node drained"), std::string::npos) << drained.out;
  for (const auto& s : streams) {
    ASSERT_TRUE(eventually([&] { return s->ended(); }, 10s));
    EXPECT_FALSE(s->error()) << s->error().message();
    EXPECT_EQ(tokens_in(s->body()), 20) << s->body();
    EXPECT_NE(s->body().find("data: [DONE]"), std::string::npos);
  }
  auto node = duetd_.get("/apis/v1/node");
  EXPECT_EQ(node["unschedulable"], true);
  EXPECT_EQ(node["runningReplicas"], 0);
  EXPECT_TRUE(has_event("chat-0", "NodeDrain"));
  duetd_.restart(SIGTERM);  // the cordon is in the checkpoint
  ASSERT_TRUE(eventually([&] { return engine("chat-0").value("message", "") == "the node is cordoned (duetctl uncordon)"; }, 15s))
      << engine("chat-0").dump();
  EXPECT_EQ(engine("chat-0")["state"], "Pending");

  auto uncordoned = duetd_.duetctl({"uncordon"});
  EXPECT_EQ(uncordoned.exit_code, 0) << uncordoned.out;
  EXPECT_TRUE(eventually([&] { return duetd_.ready_engines("chat") == 2; }, 30s));
  EXPECT_EQ(duetd_.get("/apis/v1/node")["unschedulable"], false);
}

// `systemctl reload duet-router` (SIGUSR2): a new router process takes over the listening
// sockets and serves; the old one stops accepting, finishes its streams and exits. Not one
// request fails meanwhile, and not one stream is cut.
TEST_F(Drains, ARouterReloadHandsItsSocketsToASuccessorAndFinishesItsStreams) {
  FakeNotifySocket systemd(duetd_.dir() / "notify.sock");
  ASSERT_NO_FATAL_FAILURE(start(2, 30, {{"NOTIFY_SOCKET", (duetd_.dir() / "notify.sock").string()}}));
  ASSERT_TRUE(systemd.receive_containing("READY=1"));
  auto streams = open_streams(4, 30);  // 3 s each
  std::atomic<bool> stop = false;
  std::atomic<int> served = 0, failed = 0;
  std::string first_failure;
  std::thread traffic([&] {
    while (!stop) {
      try {
        auto r = router_->post("/v1/completions", completion("during the reload"));
        if (r.result_int() == 200) {
          ++served;
          continue;
        }
        if (failed++ == 0) first_failure = std::to_string(r.result_int()) + " " + r.body();
      } catch (const std::exception& e) {
        if (failed++ == 0) first_failure = e.what();
      }
    }
  });
  ASSERT_TRUE(eventually([&] { return served > 20; }, 10s));
  router_->process().signal(SIGUSR2);
  EXPECT_TRUE(router_->process().wait_for_output("event=replaced", 30s)) << "no successor served";
  auto output = router_->process().output();
  auto at = output.find("event=replacing successor=");
  ASSERT_NE(at, std::string::npos);
  int successor = std::stoi(output.substr(at + 26));
  // The old router names the successor the service's main process.
  EXPECT_TRUE(systemd.receive_containing("MAINPID=" + std::to_string(successor)));
  int old_status = router_->process().wait(20s);  // after its last stream
  int after_exit = served;
  EXPECT_TRUE(eventually([&] { return served > after_exit + 20; }, 10s)) << "the successor does not serve";
  stop = true;
  traffic.join();
  ASSERT_TRUE(WIFEXITED(old_status)) << "the old router did not exit";
  EXPECT_EQ(WEXITSTATUS(old_status), 0);
  EXPECT_EQ(failed, 0) << first_failure;
  for (const auto& s : streams) {
    EXPECT_TRUE(s->ended());
    EXPECT_FALSE(s->error()) << s->error().message();
    EXPECT_EQ(tokens_in(s->body()), 30) << s->body();
    EXPECT_NE(s->body().find("data: [DONE]"), std::string::npos);
  }
  auto ready = router_->admin("/readyz");  // the successor's, on the same admin port
  EXPECT_EQ(ready.result_int(), 200) << ready.body();
}

// A successor that cannot start (here: the config file was broken since) changes nothing:
// the running router says why and goes on serving.
TEST_F(Drains, ARouterReloadWhoseSuccessorFailsKeepsTheRunningRouter) {
  ASSERT_NO_FATAL_FAILURE(start(1, 30));
  duetd_.write("router.yaml", "listen: [{address: 127.0.0.1:0}]\nthreads: many\n");
  router_->process().signal(SIGUSR2);
  EXPECT_TRUE(router_->process().wait_for_output("event=replace_failed", 30s));
  EXPECT_TRUE(router_->process().running());
  auto r = router_->post("/v1/completions", completion("after a failed reload"));
  EXPECT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(router_->admin("/readyz").result_int(), 200);
}

}  // namespace
}  // namespace duet::test
