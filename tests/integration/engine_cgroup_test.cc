// A replica's processes live in a cgroup of their own (engine/instance/replica_cgroup.h):
// what an engine forks, even a worker in a session of its own, is killed when the engine
// exits, is restarted or deleted, and when duetd finds it orphaned at start. Checked by the
// cgroup and by a scan of /proc. Skipped where cgroup v2 cannot be written.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/instance/replica_cgroup.h"
#include "support/duetd_harness.h"

namespace duet::test {
namespace {

namespace fs = std::filesystem;

// Live processes (not zombies) whose environment has DUET_DEPLOYMENT=`deployment`: the
// engine and all it forked, whatever session or process group they are in; with
// `only_workers`, the `sleep 600` workers alone.
std::vector<pid_t> processes_of(const std::string& deployment, bool only_workers = false) {
  std::vector<pid_t> pids;
  const std::string marker = std::string("DUET_DEPLOYMENT=") + deployment + '\0';
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream environ(entry.path() / "environ");
    std::string env((std::istreambuf_iterator<char>(environ)), {});
    if (env.find(marker) == std::string::npos) continue;
    std::ifstream cmdline(entry.path() / "cmdline");
    std::string argv((std::istreambuf_iterator<char>(cmdline)), {});
    if (only_workers && argv != std::string("sleep\0" "600\0", 10)) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    auto state = text.find(") ");
    if (state != std::string::npos && text[state + 2] != 'Z') pids.push_back(std::stoi(name));
  }
  return pids;
}

// An engine that starts a worker in a session of its own (out of reach of its process
// group), then fails: each run leaves that worker behind unless its cgroup is killed.
std::string forking_engine(const std::string& name) {
  return "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: cpu}\nhandler: cpu\n---\n"
         "apiVersion: duet/v1alpha1\nkind: EngineDeployment\nmetadata: {name: " + name + "}\nspec:\n"
         "  runtimeClassName: cpu\n  replicas: 1\n  version: v1\n"
         "  template:\n    command: [sh, -c, \"setsid sleep 600 & sleep 0.3; exit 3\"]\n";
}

class EngineCgroups : public ::testing::Test {
 protected:
  void SetUp() override {
    if (duetd_.cgroup_root().empty()) GTEST_SKIP() << "no writable cgroup v2 here: " << duetd_.process().output();
    name_ = "forker-" + std::to_string(::getpid());
    auto applied = duetd_.duetctl({"apply", "-f", duetd_.write("forker.yaml", forking_engine(name_))});
    ASSERT_EQ(applied.exit_code, 0) << applied.out;
  }

  nlohmann::json engine() { return duetd_.get("/apis/v1/engines/" + name_ + "-0"); }

  DuetdHarness duetd_;
  std::string name_;
};

TEST_F(EngineCgroups, AnEngineThatExitsLeavesNothingBehindAcrossRestartsAndDelete) {
  ASSERT_TRUE(eventually([&] { return engine().value("restarts", 0) >= 2; }, 30s)) << engine().dump(2);
  std::string cgroup = engine()["cgroup"];
  EXPECT_EQ(cgroup, duetd_.cgroup_root() + "/" + name_ + "-0");
  // Three runs so far; only the current one's worker may be alive (or none, between runs).
  // Without the cgroup, each run's worker would still sleep.
  auto workers = processes_of(name_, true);
  EXPECT_LE(workers.size(), 1u) << workers.size() << " workers of " << name_;
  // The cgroup holds this run at most: its shell, the shell's `sleep 0.3` and the worker.
  EXPECT_LE(engine::cgroup_processes(cgroup).size(), 3u);
  EXPECT_TRUE(duetd_.process().wait_for_output("event=engine_leftovers_killed engine=" + name_ + "-0"));
  // Its CPU time from the cgroup, in /metrics (memory too where the controller is enabled).
  auto metrics = duetd_.request(http::bhttp::verb::get, "/metrics").body();
  EXPECT_NE(metrics.find("duet_engine_cpu_seconds_total{deployment=\"" + name_ + "\",engine=\"" + name_ + "-0\"}"),
            std::string::npos) << metrics;

  ASSERT_EQ(duetd_.duetctl({"delete", "deployment", name_}).exit_code, 0);
  EXPECT_TRUE(eventually([&] { return processes_of(name_).empty(); }, 10s))
      << processes_of(name_).size() << " processes left";
  EXPECT_TRUE(eventually([&] { return !fs::exists(cgroup); }, 10s)) << cgroup;
}

TEST_F(EngineCgroups, AtStartDuetdKillsWhatIsLeftInACgroupNoReplicaOwns) {
  ASSERT_TRUE(eventually([&] { return engine().value("pid", 0) > 0; }, 20s));
  std::string cgroup = engine()["cgroup"];
  // duetd goes down with an engine run in flight; the engine exits while no duetd watches,
  // and its worker stays: the new duetd does not adopt a replica whose process is gone.
  pid_t worker = 0;
  duetd_.restart(SIGKILL, [&] {
    ASSERT_TRUE(eventually([&] { return processes_of(name_).size() == 1; }, 10s))
        << "the worker alone should be left, not " << processes_of(name_).size();
    worker = processes_of(name_, true).front();
  });
  EXPECT_TRUE(duetd_.process().wait_for_output("event=orphan_cgroup_collected cgroup=" + cgroup))
      << duetd_.process().output();
  EXPECT_TRUE(eventually([&] { return ::kill(worker, 0) != 0; }, 10s)) << "worker " << worker << " lives";
}

}  // namespace
}  // namespace duet::test
