// duetd supervising engines that fail: liveness, crash loops, and what duetctl shows of them
// (describe with events, logs), plus delete -f and invalid applies through the real CLI.
#include <gtest/gtest.h>
#include <signal.h>

#include "support/duetd_harness.h"

namespace duet::test {
namespace {

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

TEST(DuetdSupervision, ReplicaWhoseLivenessFailsIsRestarted) {
  DuetdHarness d;
  // After one inference request the sim answers nothing, /health included: a hung engine.
  auto yaml = sim_deployment_yaml("sim", 1, ", --hang-after, \"1\"",
                                  "    livenessProbe: {httpGet: {path: /health}, initialDelaySeconds: 2, "
                                  "periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 2}\n");
  ASSERT_EQ(d.duetctl({"apply", "-f", d.write("sim.yaml", yaml)}).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return d.ready_engines("sim") == 1; }, 20s));
  auto engine = d.get("/apis/v1/engines/sim-0");
  auto endpoint = Address::parse(engine["endpoint"].get<std::string>());
  int first_pid = engine["pid"].get<int>();
  for (int i = 0; i < 2; ++i) {  // the second request hangs; its timeout is expected
    try {
      http::fetch_sync(endpoint,
                       http::make_request(http::bhttp::verb::post, "/v1/completions", endpoint,
                                          R"({"model":"m","prompt":"hi","max_tokens":1})", "application/json"),
                       500ms);
    } catch (const std::system_error&) {
    }
  }
  ASSERT_TRUE(eventually([&] {
    auto e = d.get("/apis/v1/engines/sim-0");
    // At least once: on a loaded machine a fresh replica may miss a 1 s probe twice too
    // (initialDelaySeconds gives a restarted ASan duet-sim time to listen first).
    return e["restarts"].get<int>() >= 1 && e["pid"] != first_pid && e["state"] == "Ready";
  }, 20s)) << d.get("/apis/v1/engines/sim-0").dump();
  auto described = d.duetctl({"describe", "deployment", "sim"});
  EXPECT_NE(described.out.find("Liveness probe failed"), std::string::npos) << described.out;
}

TEST(DuetdSupervision, CrashLoopingReplicaShowsBackOff) {
  DuetdHarness d;
  auto yaml = sim_deployment_yaml("sim", 1, ", --no-such-flag");  // exits 2 at once, every time
  ASSERT_EQ(d.duetctl({"apply", "-f", d.write("sim.yaml", yaml)}).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return d.get("/apis/v1/engines/sim-0")["restarts"].get<int>() >= 2; }, 20s));
  auto engine = d.get("/apis/v1/engines/sim-0");
  EXPECT_EQ(engine["lastExit"], "exited with code 2");
  auto described = d.duetctl({"describe", "deployment", "sim"});
  EXPECT_EQ(described.exit_code, 0);
  EXPECT_NE(described.out.find("Warning   BackOff"), std::string::npos) << described.out;
  EXPECT_NE(described.out.find("CrashLoopBackOff: exited with code 2; restarting in 2s"), std::string::npos)
      << described.out;
  // The delay doubles: 1 s, 2 s, 4 s...
  EXPECT_TRUE(eventually([&] {
    return d.duetctl({"describe", "deployment", "sim"}).out.find("restarting in 4s") != std::string::npos;
  }, 20s));
}

TEST(DuetdSupervision, LogsShowAndFollowAReplicasOutput) {
  DuetdHarness d;
  ASSERT_EQ(d.duetctl({"apply", "-f", d.write("sim.yaml", sim_deployment_yaml("sim", 1))}).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return d.ready_engines("sim") == 1; }, 20s));
  auto logs = d.duetctl({"logs", "sim-0"});
  EXPECT_EQ(logs.exit_code, 0);
  EXPECT_EQ(count_of(logs.out, "event=listening"), 1) << logs.out;

  ChildProcess follow({bin("duetctl"), "--server", d.api().to_string(), "logs", "sim-0", "-f", "--tail", "1"});
  ASSERT_TRUE(follow.wait_for_output("event=listening"));
  // The engine restarts and writes to the same file: the follower sees the new lines.
  ::kill(d.get("/apis/v1/engines/sim-0")["pid"].get<int>(), SIGKILL);
  EXPECT_TRUE(eventually([&] { return count_of(follow.output(), "event=listening") == 2; }, 20s))
      << follow.output();

  auto missing = d.duetctl({"logs", "nope-0"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("no log for \"nope-0\""), std::string::npos) << missing.out;
}

TEST(DuetdSupervision, DeleteByFileRemovesEverythingItNames) {
  DuetdHarness d;
  auto demo = std::string(DUET_SOURCE_DIR) + "/manifests/examples/demo.yaml";
  ASSERT_EQ(d.duetctl({"apply", "-f", demo}).exit_code, 0);
  auto deleted = d.duetctl({"delete", "-f", demo});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.out;
  EXPECT_LT(deleted.out.find("route/chat deleted"), deleted.out.find("enginedeployment/chat-small deleted"));
  EXPECT_TRUE(d.get("/apis/v1/routes")["items"].empty());
  EXPECT_TRUE(d.get("/apis/v1/deployments")["items"].empty());
  EXPECT_TRUE(d.get("/apis/v1/runtimeclasses")["items"].empty());
  auto again = d.duetctl({"delete", "-f", demo});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.out.find("Route \"chat\" not found"), std::string::npos) << again.out;
}

TEST(DuetdSupervision, InvalidAppliesOfEveryKindStoreNothing) {
  DuetdHarness d;
  auto good = sim_deployment_yaml("sim", 1);
  auto route = "---\napiVersion: duet/v1alpha1\nkind: Route\nmetadata: {name: r}\n"
               "spec: {match: {pathPrefix: /v1/}, backend: sim}\n";
  struct Case {
    std::string yaml, error;
  };
  auto replaced = [&](std::string text, const std::string& from, const std::string& to) {
    return text.replace(text.find(from), from.size(), to);
  };
  std::vector<Case> cases = {
      {replaced(good, "replicas: 1", "replicas: 1\n  replicaz: 1"), "m.yaml[1] spec.replicaz: unknown field"},
      {replaced(good, "replicas: 1", "replicas: two"), "m.yaml[1] spec.replicas: expected integer, got \"two\""},
      {replaced(good, "  runtimeClassName: cpu\n", ""), "m.yaml[1] spec.runtimeClassName: required field is missing"},
      {replaced(good, "handler: cpu", "handler: tpu"), "m.yaml[0] handler:"},
      {good + replaced(route, "backend: sim", "backend: nope"), "m.yaml[2] spec.backend: EngineDeployment \"nope\" not found"},
      {replaced(good, "runtimeClassName: cpu", "runtimeClassName: gpu"), "m.yaml[1] spec.runtimeClassName: RuntimeClass \"gpu\" not found"},
  };
  for (const auto& c : cases) {
    auto result = d.duetctl({"apply", "-f", d.write("m.yaml", c.yaml)});
    EXPECT_EQ(result.exit_code, 1) << c.yaml;
    EXPECT_NE(result.out.find("error: " + c.error), std::string::npos) << result.out;
  }
  for (const auto& kind : {"runtimeclasses", "deployments", "routes", "engines"})
    EXPECT_TRUE(d.get(std::string("/apis/v1/") + kind)["items"].empty()) << kind;
}

}  // namespace
}  // namespace duet::test
