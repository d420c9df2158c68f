// resources.limits (engine/instance/resource_limits.h): a replica's memory and pids limits
// are the kernel's, in its cgroup v2 folder or, on hybrid hosts, a cgroup v1 folder of the
// controller. A replica over its memory limit is OOM-killed and its lastExit says so; one
// that forks past its pids limit gets no more processes. Skipped where no writable cgroup
// has the controller (duetd logs where each controller is).
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "engine/instance/replica_cgroup.h"
#include "support/duetd_harness.h"

namespace duet::test {
namespace {

std::string limited_engine(const std::string& name, const std::string& command, const std::string& limits) {
  return "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: cpu}\nhandler: cpu\n---\n"
         "apiVersion: duet/v1alpha1\nkind: EngineDeployment\nmetadata: {name: " + name + "}\nspec:\n"
         "  runtimeClassName: cpu\n  replicas: 1\n  version: v1\n"
         "  resources: {limits: " + limits + "}\n"
         "  template:\n    command: " + command + "\n";
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

class EngineLimits : public ::testing::Test {
 protected:
  // The folder that holds `controller`'s knobs for replica `name`-0.
  std::string folder(const std::string& controller, const std::string& name) {
    auto place = duetd_.cgroup_place(controller);
    return (place == "v2" ? duetd_.cgroup_root() : place) + "/" + name + "-0";
  }
  void skip_without(const std::string& controller) {
    if (duetd_.cgroup_place(controller) == "none")
      GTEST_SKIP() << "no writable cgroup with the " << controller << " controller here: "
                   << duetd_.process().output();
  }
  void apply(const std::string& yaml) {
    auto applied = duetd_.duetctl({"apply", "-f", duetd_.write("limits.yaml", yaml)});
    ASSERT_EQ(applied.exit_code, 0) << applied.out;
  }

  DuetdHarness duetd_;
  std::string name_ = "limited-" + std::to_string(::getpid());
};

TEST_F(EngineLimits, AReplicaOverItsMemoryLimitIsOomKilledAndLastExitSaysSo) {
  skip_without("memory");
  // tail keeps the last "line" of a file without newlines: it grows until it is stopped.
  apply(limited_engine(name_, "[tail, /dev/zero]", "{memory: 32Mi}"));
  std::string last_exit;
  EXPECT_TRUE(eventually([&] {
    last_exit = duetd_.get("/apis/v1/engines/" + name_ + "-0").value("lastExit", "");
    return !last_exit.empty();
  }, 30s)) << duetd_.process().output();
  EXPECT_TRUE(last_exit.starts_with("OOMKilled (memory limit 33554432 bytes)")) << last_exit;
  auto memory = folder("memory", name_);
  bool v1 = duetd_.cgroup_place("memory") != "v2";
  EXPECT_EQ(first_line(memory + (v1 ? "/memory.limit_in_bytes" : "/memory.max")), "33554432");
  auto described = duetd_.duetctl({"describe", "deployment", name_});
  EXPECT_NE(described.out.find("OOMKilled"), std::string::npos) << described.out;

  // Deleted, its limit folders go with it.
  ASSERT_EQ(duetd_.duetctl({"delete", "deployment", name_}).exit_code, 0);
  EXPECT_TRUE(eventually([&] { return !std::filesystem::exists(memory); }, 10s)) << memory;
}

TEST_F(EngineLimits, AReplicaCannotForkPastItsPidsLimit) {
  skip_without("pids");
  apply(limited_engine(name_, "[sh, -c, \"for i in $(seq 40); do sleep 600 & done; wait\"]", "{pids: 8}"));
  auto pids = folder("pids", name_);
  EXPECT_TRUE(eventually([&] { return first_line(pids + "/pids.max") == "8"; }, 10s)) << pids;
  // The shell tries 40 forks; the kernel refuses past 8 and the shell says so.
  EXPECT_TRUE(eventually([&] {
    auto logs = duetd_.duetctl({"logs", name_ + "-0"});
    return logs.out.find("fork") != std::string::npos;
  }, 20s)) << duetd_.duetctl({"logs", name_ + "-0"}).out;
  EXPECT_LE(engine::cgroup_processes(pids).size(), 8u);
  EXPECT_LE(std::stoi(first_line(pids + "/pids.current")), 8);
}

}  // namespace
}  // namespace duet::test
