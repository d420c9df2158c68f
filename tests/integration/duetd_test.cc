// duetd as a real process with real duet-sim engines, driven through duetctl and the API.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "support/billion_laughs.h"
#include "support/duetd_harness.h"
#include "support/watch_client.h"

namespace duet::test {
namespace {

std::vector<int> engine_pids(DuetdHarness& d) {
  std::vector<int> pids;
  auto engines = d.get("/apis/v1/engines");
  for (const auto& e : engines["items"]) pids.push_back(e["pid"].get<int>());
  return pids;
}

// The peak resident memory of `pid` in KiB (VmHWM of /proc/PID/status); -1 if unreadable.
long peak_rss_kib(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("VmHWM:")) return std::stol(line.substr(6));
  return -1;
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
  auto bad = sim_deployment_yaml("sim", 2);
  bad.replace(bad.find("replicas: 2"), 11, "replicas: two");
  auto file = d.write("chat.yaml", bad);
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

TEST(Duetd, AnAliasBombIsRefusedAndDuetdStillAnswers) {
  DuetdHarness d;
  auto result = d.duetctl({"apply", "-f", d.write("lol.yaml", billion_laughs_yaml())});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.out.find("error: lol.yaml:6: expands to more than 100000 YAML nodes"),
            std::string::npos)
      << result.out;
  // Refused before the copies were made (expanding took 875 MB before the budget).
  auto peak = peak_rss_kib(d.process().pid());
  EXPECT_GT(peak, 0);
  EXPECT_LT(peak, 400 * 1024);
  // Still the same duetd, answering and applying.
  EXPECT_TRUE(d.process().running());
  ASSERT_EQ(
      d.duetctl({"apply", "-f", d.write("sim.yaml", sim_deployment_yaml("sim", 0))}).exit_code, 0);
  EXPECT_EQ(d.get("/apis/v1/deployments/sim")["metadata"]["name"], "sim");
}

// Each of these escaped the manifest parser as an exception: a 500 with the exception's
// text (issue 15). Now a 400 naming the field, and duetd goes on applying.
TEST(Duetd, ManifestsTheParsersRefuseAre400sNamingTheField) {
  DuetdHarness d;
  auto expect_400 = [&](const std::string& body, const std::string& param) {
    SCOPED_TRACE(body);
    auto res = d.request(http::bhttp::verb::post, "/apis/v1/apply?source=x.json", body);
    EXPECT_EQ(res.result_int(), 400) << res.body();
    auto reply = nlohmann::json::parse(res.body(), nullptr, false);
    EXPECT_EQ(reply["error"]["param"], param) << res.body();
  };
  expect_400(R"([{"kind":"Route","x":1e309}])", "x.json[0] x");
  expect_400(R"({"kind":"List","items":5})", "x.json items");
  expect_400(std::string("\x01\0\0\0\0\0\0\n", 8), "x.json:1");
  EXPECT_TRUE(d.process().running());
  ASSERT_EQ(
      d.duetctl({"apply", "-f", d.write("sim.yaml", sim_deployment_yaml("sim", 0))}).exit_code, 0);
}

TEST(Duetd, FileAndObjectNamesThatNeedEscapingGoThrough) {
  DuetdHarness d;
  std::filesystem::create_directories(d.dir() / "dir with space");
  // A space, '#', '?', '&' and '=' in a file name: each changes a URL's meaning if sent raw.
  auto file = d.write("dir with space/my app #1?&x=y.yaml", sim_deployment_yaml("sim", 0));
  auto applied = d.duetctl({"apply", "-f", file});
  ASSERT_EQ(applied.exit_code, 0) << applied.out;
  EXPECT_NE(applied.out.find("enginedeployment/sim created"), std::string::npos) << applied.out;
  // duetd names the file as it is.
  auto refused =
      d.duetctl({"apply", "-f", d.write("dir with space/bad 100%.yaml", "kind: Nope\n")});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.out.find("error: bad 100%.yaml[0] kind: unknown kind \"Nope\""),
            std::string::npos)
      << refused.out;
  auto missing = d.duetctl({"get", "deployment", "a b?c#d"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("EngineDeployment \"a b?c#d\" not found"), std::string::npos)
      << missing.out;
}

TEST(Duetd, ALatin1FileNameIsAppliedAndNamedInErrors) {
  DuetdHarness d;
  // duetd takes only UTF-8 names; duetctl sends this one as caf\xE9.yaml, percent-encoded.
  auto applied = d.duetctl({"apply", "-f", d.write("caf\xe9.yaml", sim_deployment_yaml("sim", 0))});
  ASSERT_EQ(applied.exit_code, 0) << applied.out;
  auto refused = d.duetctl({"apply", "-f", d.write("bad\xe9.yaml", "kind: Nope\n")});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.out.find("error: bad\\xE9.yaml[0] kind: unknown kind"), std::string::npos)
      << refused.out;
  EXPECT_TRUE(d.process().running());
  EXPECT_EQ(d.get("/apis/v1/deployments")["items"].size(), 1u);
}

TEST(Duetd, ScalesUpAndDownAndDeleteDrains) {
  DuetdHarness d;
  auto file = (d.dir() / "sim.yaml").string();
  auto apply = [&](int replicas) {
    d.write("sim.yaml", sim_deployment_yaml("sim", replicas));
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
  ASSERT_EQ(d.duetctl({"apply", "-f", d.write("sim.yaml", sim_deployment_yaml("sim", 1))}).exit_code, 0);
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
  WatchClient watch(d.api(), "/apis/v1/watch");
  const auto& events = watch.events();
  ASSERT_TRUE(watch.run_until([&] { return !events.empty(); }));
  EXPECT_EQ(events[0]["type"], "SNAPSHOT");
  EXPECT_TRUE(events[0]["engines"].empty());

  ASSERT_EQ(d.duetctl({"apply", "-f", d.write("sim.yaml", sim_deployment_yaml("sim", 1))}).exit_code, 0);
  ASSERT_TRUE(watch.run_until([&] { return watch.saw_engine("sim-0", "Ready"); }));
  EXPECT_EQ(events[1]["type"], "ADDED");
  EXPECT_EQ(events[1]["kind"], "RuntimeClass");
  for (std::size_t i = 2; i < events.size(); ++i)
    EXPECT_EQ(events[i]["resourceVersion"].get<int>(), events[i - 1]["resourceVersion"].get<int>() + 1);
}

TEST(Duetd, WatchResumesFromAResourceVersion) {
  DuetdHarness d;
  uint64_t seen = 0;
  {
    WatchClient first(d.api(), "/apis/v1/watch");
    ASSERT_TRUE(first.run_until([&] { return !first.events().empty(); }));
    seen = first.events()[0]["resourceVersion"].get<uint64_t>();
  }
  // Changes while no one watches, then a reconnect from where the first stream left off.
  ASSERT_EQ(d.duetctl({"apply", "-f", d.write("sim.yaml", sim_deployment_yaml("sim", 1))}).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return d.ready_engines("sim") == 1; }, 20s));
  WatchClient resumed(d.api(), "/apis/v1/watch?resourceVersion=" + std::to_string(seen));
  ASSERT_TRUE(resumed.run_until([&] { return resumed.saw_engine("sim-0", "Ready"); }));
  const auto& events = resumed.events();
  EXPECT_EQ(events[0]["type"], "BOOKMARK");
  EXPECT_EQ(events[0]["resourceVersion"].get<uint64_t>(), seen);
  EXPECT_EQ(events[1]["type"], "ADDED");
  EXPECT_EQ(events[1]["resourceVersion"].get<uint64_t>(), seen + 1);

  // A resourceVersion this duetd never handed out gets a fresh snapshot instead.
  WatchClient unknown(d.api(), "/apis/v1/watch?resourceVersion=999999999");
  ASSERT_TRUE(unknown.run_until([&] { return !unknown.events().empty(); }));
  EXPECT_EQ(unknown.events()[0]["type"], "SNAPSHOT");
  EXPECT_EQ(unknown.events()[0]["engines"].size(), 1u);
}

}  // namespace
}  // namespace duet::test
