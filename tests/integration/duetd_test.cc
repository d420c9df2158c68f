// duetd as a real process with real duet-sim engines, driven through duetctl and the API.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include "duet/common/line_splitter.h"
#include "support/duetd_harness.h"

namespace duet::test {
namespace {

std::string deployment_yaml(int replicas, const std::string& extra_args = "") {
  return "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: cpu}\nhandler: cpu\n---\n"
         "apiVersion: duet/v1alpha1\nkind: EngineDeployment\nmetadata: {name: sim}\nspec:\n"
         "  runtimeClassName: cpu\n  replicas: " + std::to_string(replicas) + "\n  version: v1\n"
         "  template:\n    command: [duet-sim, --port, \"${PORT}\"" + extra_args + "]\n"
         "    readinessProbe: {httpGet: {path: /health}, periodSeconds: 1}\n"
         "    terminationGracePeriodSeconds: 5\n";
}

std::string write_file(const TempDir& dir, const std::string& name, const std::string& text) {
  auto path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

bool process_alive(int pid) { return pid > 0 && ::kill(pid, 0) == 0; }

std::vector<int> engine_pids(DuetdHarness& d) {
  std::vector<int> pids;
  auto engines = d.get("/apis/v1/engines");
  for (const auto& e : engines["items"]) pids.push_back(e["pid"].get<int>());
  return pids;
}

TEST(Duetd, DemoManifestsBecomeReadyAndServe) {
  DuetdHarness d;
  auto applied = d.duetctl({"apply", "-f", std::string(DUET_SOURCE_DIR) + "/manifests/examples/demo.yaml"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out;
  EXPECT_NE(applied.out.find("enginedeployment/chat-small created"), std::string::npos) << applied.out;
  EXPECT_NE(applied.out.find("route/chat created"), std::string::npos) << applied.out;
  ASSERT_TRUE(eventually([&] { return d.ready_engines("chat-small") == 2 && d.ready_engines("chat-large") == 1; }, 20s))
      << d.get("/apis/v1/engines").dump(2);

  // Each engine got its own PORT and DUET_REPLICA: it answers on its endpoint, under its name.
  auto engines = d.get("/apis/v1/engines");
  for (const auto& e : engines["items"]) {
    auto endpoint = Address::parse(e["endpoint"].get<std::string>());
    auto res = http::fetch_sync(endpoint, http::make_request(http::bhttp::verb::get, "/health", endpoint), 5s);
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res["x-duet-replica"], e["name"].get<std::string>());
  }
  auto table = d.duetctl({"get", "engines"});
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("chat-small-1   chat-small"), std::string::npos) << table.out;
  auto deployments = d.duetctl({"get", "deployments"});
  EXPECT_NE(deployments.out.find("2/2"), std::string::npos) << deployments.out;
}

TEST(Duetd, InvalidApplyStoresNothingAndNamesTheField) {
  DuetdHarness d;
  auto bad = deployment_yaml(2);
  bad.replace(bad.find("replicas: 2"), 11, "replicas: two");
  auto file = write_file(d.dir(), "chat.yaml", bad);
  auto result = d.duetctl({"apply", "-f", file});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.out.find("error: chat.yaml[1] spec.replicas: expected integer, got \"two\""), std::string::npos)
      << result.out;
  // Document 0 was valid, but an apply is all-or-nothing.
  EXPECT_TRUE(d.get("/apis/v1/runtimeclasses")["items"].empty());
  EXPECT_TRUE(d.get("/apis/v1/deployments")["items"].empty());

  auto res = d.request(http::bhttp::verb::post, "/apis/v1/apply?source=chat.yaml", bad);
  EXPECT_EQ(res.result_int(), 400);
  auto body = nlohmann::json::parse(res.body());
  EXPECT_EQ(body["error"]["param"], "chat.yaml[1] spec.replicas");

  auto usage = d.duetctl({"get"});
  EXPECT_EQ(usage.exit_code, 2) << usage.out;
}

TEST(Duetd, ScalesUpAndDownAndDeleteDrains) {
  DuetdHarness d;
  auto file = (d.dir() / "sim.yaml").string();
  auto apply = [&](int replicas) {
    write_file(d.dir(), "sim.yaml", deployment_yaml(replicas));
    return d.duetctl({"apply", "-f", file});
  };
  ASSERT_EQ(apply(2).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return d.ready_engines("sim") == 2; }, 20s));
  auto second = apply(4);
  EXPECT_NE(second.out.find("enginedeployment/sim configured"), std::string::npos) << second.out;
  EXPECT_NE(second.out.find("runtimeclass/cpu unchanged"), std::string::npos) << second.out;
  ASSERT_TRUE(eventually([&] { return d.ready_engines("sim") == 4; }, 20s));
  auto four = engine_pids(d);

  ASSERT_EQ(apply(1).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return d.get("/apis/v1/engines")["items"].size() == 1; }, 20s));
  EXPECT_EQ(d.get("/apis/v1/engines")["items"][0]["name"], "sim-0");
  for (std::size_t i = 1; i < four.size(); ++i)
    EXPECT_TRUE(eventually([&] { return !process_alive(four[i]); }, 5s)) << "pid " << four[i];

  auto deleted = d.duetctl({"delete", "deployment", "sim"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.out;
  ASSERT_TRUE(eventually([&] { return d.get("/apis/v1/engines")["items"].empty(); }, 20s));
  EXPECT_TRUE(eventually([&] { return !process_alive(four[0]); }, 5s));
}

TEST(Duetd, KilledEngineIsRestarted) {
  DuetdHarness d;
  ASSERT_EQ(d.duetctl({"apply", "-f", write_file(d.dir(), "sim.yaml", deployment_yaml(1))}).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return d.ready_engines("sim") == 1; }, 20s));
  int first = engine_pids(d).at(0);
  ::kill(first, SIGKILL);
  ASSERT_TRUE(eventually([&] {
    auto e = d.get("/apis/v1/engines/sim-0");
    return e["restarts"] == 1 && e["state"] == "Ready" && e["pid"] != first;
  }, 20s)) << d.get("/apis/v1/engines/sim-0").dump();
  EXPECT_EQ(d.get("/apis/v1/engines/sim-0")["lastExit"], "killed by signal Killed");
}

TEST(Duetd, WatchStreamSendsSnapshotThenChanges) {
  DuetdHarness d;
  boost::asio::io_context io;
  std::vector<nlohmann::json> events;
  LineSplitter lines;
  http::StreamHandlers handlers;
  handlers.on_data = [&](std::string_view data) {
    for (auto& line : lines.feed(data)) events.push_back(nlohmann::json::parse(line));
  };
  auto call = http::ClientCall::stream(io.get_executor(), d.api(),
                                       http::make_request(http::bhttp::verb::get, "/apis/v1/watch", d.api()),
                                       5s, handlers);
  auto run_until = [&](const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!done() && std::chrono::steady_clock::now() < deadline) io.run_for(20ms);
    return done();
  };
  ASSERT_TRUE(run_until([&] { return !events.empty(); }));
  EXPECT_EQ(events[0]["type"], "SNAPSHOT");
  EXPECT_TRUE(events[0]["engines"].empty());

  ASSERT_EQ(d.duetctl({"apply", "-f", write_file(d.dir(), "sim.yaml", deployment_yaml(1))}).exit_code, 0);
  auto saw_ready_engine = [&] {
    for (const auto& e : events)
      if (e.value("kind", "") == "Engine" && e["object"]["ready"] == true) return true;
    return false;
  };
  ASSERT_TRUE(run_until(saw_ready_engine));
  EXPECT_EQ(events[1]["type"], "ADDED");
  EXPECT_EQ(events[1]["kind"], "RuntimeClass");
  for (std::size_t i = 2; i < events.size(); ++i)
    EXPECT_EQ(events[i]["resourceVersion"].get<int>(), events[i - 1]["resourceVersion"].get<int>() + 1);
  call->cancel();
}

}  // namespace
}  // namespace duet::test
