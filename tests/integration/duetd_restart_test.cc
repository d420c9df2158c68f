// duetd restarts (SIGKILL and SIGTERM) with engines running: the checkpoint brings back the
// desired state and the engines are adopted, not restarted (SPEC §4).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "duet/common/file_text.h"
#include "support/duetd_harness.h"
#include "support/raw_http.h"
#include "support/router_process.h"
#include "support/watch_client.h"

namespace duet::test {
namespace {

std::map<std::string, int> pids_by_engine(DuetdHarness& d) {
  std::map<std::string, int> pids;
  auto engines = d.get("/apis/v1/engines");
  for (const auto& e : engines["items"]) pids[e["name"]] = e["pid"].get<int>();
  return pids;
}

int total_restarts(DuetdHarness& d) {
  int restarts = 0;
  auto engines = d.get("/apis/v1/engines");
  for (const auto& e : engines["items"]) restarts += e["restarts"].get<int>();
  return restarts;
}

TEST(DuetdRestart, SigkilledDuetdAdoptsTwentyRunningEngines) {
  DuetdHarness d;
  ASSERT_EQ(d.duetctl({"apply", "-f", d.write("sim.yaml", sim_deployment_yaml("sim", 20))}).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return d.ready_engines("sim") == 20; }, 60s)) << d.get("/apis/v1/engines").dump();
  auto before = pids_by_engine(d);

  d.restart(SIGKILL);
  EXPECT_NE(d.process().output().find("event=engines_adopted count=20"), std::string::npos) << d.process().output();
  // Desired state came back from the checkpoint, and every engine is the same process.
  EXPECT_EQ(d.get("/apis/v1/deployments/sim")["spec"]["replicas"], 20);
  ASSERT_TRUE(eventually([&] { return d.ready_engines("sim") == 20; }, 20s)) << d.get("/apis/v1/engines").dump();
  EXPECT_EQ(pids_by_engine(d), before);
  EXPECT_EQ(total_restarts(d), 0);
  auto described = d.duetctl({"describe", "deployment", "sim"});
  EXPECT_NE(described.out.find("Adopted"), std::string::npos) << described.out;

  // A router reconnecting with the old duetd's resourceVersion gets a fresh snapshot with
  // the adopted engines Ready.
  WatchClient watch(d.api(), "/apis/v1/watch?resourceVersion=1");
  ASSERT_TRUE(watch.run_until([&] {
    if (watch.events().empty()) return false;
    int ready = 0;
    for (const auto& e : watch.events()[0]["engines"]) ready += e["state"] == "Ready";
    return ready == 20;
  }));

  // An adopted engine is not duetd's child any more; its exit is still seen and it restarts.
  int victim = before.at("sim-7");
  ::kill(victim, SIGKILL);
  ASSERT_TRUE(eventually([&] {
    auto e = d.get("/apis/v1/engines/sim-7");
    return e["restarts"] == 1 && e["state"] == "Ready" && e["pid"] != victim;
  }, 20s)) << d.get("/apis/v1/engines/sim-7").dump();
}

TEST(DuetdRestart, SigtermLeavesEnginesRunningForTheNextDuetd) {
  DuetdHarness d;
  ASSERT_EQ(d.duetctl({"apply", "-f", d.write("sim.yaml", sim_deployment_yaml("sim", 2))}).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return d.ready_engines("sim") == 2; }, 20s));
  auto before = pids_by_engine(d);
  d.restart(SIGTERM);
  ASSERT_TRUE(eventually([&] { return d.ready_engines("sim") == 2; }, 20s));
  EXPECT_EQ(pids_by_engine(d), before);

  // Scaling down after the restart stops an adopted engine (it is signalled, and its exit
  // is seen without SIGCHLD).
  ASSERT_EQ(d.duetctl({"apply", "-f", d.write("sim.yaml", sim_deployment_yaml("sim", 1))}).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return d.get("/apis/v1/engines")["items"].size() == 1; }, 20s));
  EXPECT_TRUE(eventually([&] { return !process_alive(before.at("sim-1")); }, 10s));
}

// A replica that was Ready stays Ready across a duetd restart, so routers following duetd
// lose no endpoint, until its readiness probe fails. Here the engine hangs (/health included)
// just before duetd comes back, so the new duetd's probes time out and it must go Unready.
TEST(DuetdRestart, AReadyReplicaStaysReadyAcrossTheRestartUntilItsProbeFails) {
  DuetdHarness d;
  // Five failed probes of a second each: the first snapshot comes well before the last.
  auto manifest = sim_deployment_yaml("sim", 2, ", --hang-after, \"0\"");
  const std::string probe = "periodSeconds: 1}";
  manifest.replace(manifest.find(probe), probe.size(), "periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 5}");
  ASSERT_EQ(d.duetctl({"apply", "-f", d.write("sim.yaml", manifest)}).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return d.ready_engines("sim") == 2; }, 20s));
  auto checkpoint = d.dir() / "state" / "checkpoint.json";
  ASSERT_TRUE(eventually([&] {
    auto engines = nlohmann::json::parse(read_text_file(checkpoint).value_or(""), nullptr, false)["data"]["engines"];
    return engines.is_array() && engines.size() == 2 &&
           std::all_of(engines.begin(), engines.end(), [](const auto& e) { return e["ready"] == true; });
  })) << read_text_file(checkpoint).value_or("");
  auto before = pids_by_engine(d);

  // One inference request makes sim-0 hang (--hang-after 0); its log says when.
  RawHttpClient hang(d.get("/apis/v1/engines/sim-0")["port"].get<uint16_t>());
  auto body = completion("hello");
  hang.send("POST /v1/completions HTTP/1.1\r\nHost: sim\r\nContent-Type: application/json\r\n"
            "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  auto log = d.dir() / "state" / "logs" / "sim-0.log";
  ASSERT_TRUE(eventually([&] {
    return read_text_file(log).value_or("").find("event=hang_started") != std::string::npos;
  })) << read_text_file(log).value_or("");

  d.restart(SIGKILL);
  WatchClient watch(d.api(), "/apis/v1/watch");
  ASSERT_TRUE(watch.run_until([&] { return !watch.events().empty(); }));
  for (const auto& e : watch.events()[0]["engines"]) EXPECT_EQ(e["state"], "Ready") << e;

  EXPECT_TRUE(eventually([&] { return d.get("/apis/v1/engines/sim-0")["state"] == "Unready"; }, 30s))
      << d.get("/apis/v1/engines/sim-0").dump();
  EXPECT_EQ(d.get("/apis/v1/engines/sim-1")["state"], "Ready");
  EXPECT_EQ(pids_by_engine(d), before);
  EXPECT_EQ(total_restarts(d), 0);
}

// Applies "first", then "second" (so checkpoint.json has both and .prev only the first) and
// stops duetd. No replicas: nothing but the two applies writes the checkpoint.
void apply_twice_and_stop(DuetdHarness& d) {
  ASSERT_EQ(d.duetctl({"apply", "-f", d.write("a.yaml", sim_deployment_yaml("first", 0))}).exit_code, 0);
  ASSERT_EQ(d.duetctl({"apply", "-f", d.write("b.yaml", sim_deployment_yaml("second", 0))}).exit_code, 0);
  d.process().signal(SIGTERM);
  ASSERT_NE(d.process().wait(10s), -1);
}

TEST(DuetdRestart, DamagedCheckpointFallsBackToThePreviousOne) {
  DuetdHarness d;
  ASSERT_NO_FATAL_FAILURE(apply_twice_and_stop(d));
  auto checkpoint = d.dir() / "state" / "checkpoint.json";
  {
    std::ofstream damaged(checkpoint, std::ios::trunc);
    damaged << "{\"checksum\": \"0000\", \"data\": {\"obj";  // a torn write
  }
  d.restart(SIGKILL);  // the old one is already gone; the signal finds nothing
  auto log = d.process().output();
  EXPECT_NE(log.find("event=checkpoint_damaged"), std::string::npos) << log;
  EXPECT_NE(log.find("using=previous"), std::string::npos) << log;
  EXPECT_EQ(d.get("/apis/v1/deployments/first")["metadata"]["name"], "first");
  EXPECT_EQ(d.request(http::bhttp::verb::get, "/apis/v1/deployments/second").result_int(), 404);
  bool kept_aside = false;
  for (const auto& e : std::filesystem::directory_iterator(d.dir() / "state"))
    kept_aside |= e.path().filename().string().starts_with("checkpoint.json.corrupt-");
  EXPECT_TRUE(kept_aside);
}

// Kept-aside copies of checkpoint.json (`.corrupt-`) and of .prev (`.prev.corrupt-`).
std::vector<std::string> kept_aside(const std::filesystem::path& state) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(state))
    if (e.path().filename().string().find(".corrupt-") != std::string::npos)
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(DuetdRestart, BothCheckpointsDamagedRefusesToStartUntilTheLossIsAccepted) {
  DuetdHarness d;
  ASSERT_NO_FATAL_FAILURE(apply_twice_and_stop(d));
  auto state = d.dir() / "state";
  std::ofstream(state / "checkpoint.json", std::ios::trunc)
      << "{\"checksum\": \"0000\", \"data\": {\"obj";
  std::ofstream(state / "checkpoint.json.prev", std::ios::trunc) << "not a checkpoint";

  // Starting empty would publish an empty state that routers follow: duetd exits instead,
  // naming the files, which it keeps aside.
  std::vector<std::string> argv = {bin("duetd"), "--api", d.api().to_string(), "--state-dir",
                                   state.string()};
  auto refused = run_command(argv);
  EXPECT_EQ(refused.exit_code, 3) << refused.out;
  EXPECT_NE(refused.out.find("duetd: no good checkpoint in " + state.string()), std::string::npos)
      << refused.out;
  EXPECT_NE(refused.out.find("start once with --accept-state-loss"), std::string::npos)
      << refused.out;
  EXPECT_NE(refused.out.find("level=error component=checkpoint event=checkpoint_state_lost"),
            std::string::npos);
  auto aside = kept_aside(state);
  ASSERT_EQ(aside.size(), 2u);
  EXPECT_TRUE(aside[0].starts_with("checkpoint.json.corrupt-")) << aside[0];
  EXPECT_TRUE(aside[1].starts_with("checkpoint.json.prev.corrupt-")) << aside[1];
  EXPECT_NE(refused.out.find((state / aside[0]).string()), std::string::npos) << refused.out;
  std::string kept;
  std::getline(std::ifstream(state / aside[1]), kept);
  EXPECT_EQ(kept, "not a checkpoint");
  EXPECT_FALSE(std::filesystem::exists(state / "checkpoint.json"));

  // A restart (systemd's Restart=) refuses again: what was kept aside still counts.
  auto again = run_command(argv);
  EXPECT_EQ(again.exit_code, 3) << again.out;
  EXPECT_EQ(kept_aside(state), aside);

  // With the flag it starts empty, and says so at error level.
  argv.push_back("--accept-state-loss");
  {
    ChildProcess accepted(argv, {}, (d.dir() / "accepted.log").string());
    ASSERT_TRUE(accepted.wait_for_output("event=listening", 20s)) << accepted.output();
    EXPECT_NE(accepted.output().find("level=error component=checkpoint event=state_loss_accepted"),
              std::string::npos)
        << accepted.output();
    EXPECT_TRUE(d.get("/apis/v1/deployments")["items"].empty());
    accepted.signal(SIGTERM);
    ASSERT_NE(accepted.wait(10s), -1);
  }
  // The empty state was written at once: the next start needs no flag.
  argv.pop_back();
  ChildProcess next(argv, {}, (d.dir() / "next.log").string());
  ASSERT_TRUE(next.wait_for_output("event=listening", 20s)) << next.output();
  EXPECT_NE(next.output().find("from=current"), std::string::npos) << next.output();
}

}  // namespace
}  // namespace duet::test
