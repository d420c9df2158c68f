// The real duet-devices binary on a fake host.
#include <gmock/gmock.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "support/fake_tree.h"
#include "support/child_process.h"

namespace duet::test {
namespace {

using testing::HasSubstr;
using testing::Not;

class DuetDevicesTest : public testing::Test {
 protected:
  DuetDevicesTest() {
    tree_.add_ascend(8);
    tree_.add_nvidia_control();
    tree_.add_nvidia_gpu({0, "GPU-aaaa", "NVIDIA H100 80GB HBM3", "0000:00:06.0", 0, {}});
    tree_.add_nvidia_gpu({1, "GPU-bbbb", "NVIDIA H100 80GB HBM3", "0000:00:07.0", 0, {}});
    tree_.add_cambricon(4);
    tree_.add_cpus({2, 4, 1, FakeTree::kunpeng_cpuinfo(8)});
  }

  // Runs duet-devices on the tree with vendor libraries that cannot load (whatever this host
  // has); returns stdout+stderr and the exit status.
  std::pair<std::string, int> run(std::vector<std::string> extra) {
    std::vector<std::string> argv = {bin("duet-devices"), "--dev-root",
                                     tree_.path("dev"),   "--sys-root=" + tree_.path("sys"),
                                     "--proc-root",       tree_.path("proc"),
                                     "--dcmi-library",    "/nonexistent/libdcmi.so",
                                     "--nvml-library",    "/nonexistent/libnvidia-ml.so.1",
                                     "--cndev-library",   "/nonexistent/libcndev.so"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ChildProcess child(argv);
    int status = child.wait();
    return {child.output(), status};
  }

  FakeTree tree_;
};

// Log lines (ts=...) may share the stream with the JSON; keep the rest.
nlohmann::json json_of(const std::string& output) {
  std::istringstream lines(output);
  std::string body;
  for (std::string line; std::getline(lines, line);)
    if (!line.starts_with("ts=")) body += line + "\n";
  return nlohmann::json::parse(body);
}

TEST_F(DuetDevicesTest, JsonListsEveryPluginWithItsSource) {
  auto [output, status] = run({"--json"});
  ASSERT_TRUE(WIFEXITED(status)) << output;
  EXPECT_EQ(WEXITSTATUS(status), 0) << output;
  auto doc = json_of(output);
  auto& plugins = doc.at("plugins");
  ASSERT_EQ(plugins.size(), 4u);
  std::map<std::string, nlohmann::json> by;
  for (auto& p : plugins) by[p.at("handler")] = p;

  EXPECT_EQ(by["ascend"]["source"], "devfs");
  EXPECT_THAT(by["ascend"]["detail"].get<std::string>(), HasSubstr("/nonexistent/libdcmi.so"));
  EXPECT_EQ(by["ascend"]["devices"].size(), 8u);
  EXPECT_EQ(by["ascend"]["devices"][7]["id"], "7");
  EXPECT_EQ(by["ascend"]["devices"][7]["health"], "Healthy");

  EXPECT_EQ(by["nvidia"]["source"], "procfs");
  EXPECT_THAT(by["nvidia"]["detail"].get<std::string>(), HasSubstr("cannot open shared object"));
  ASSERT_EQ(by["nvidia"]["devices"].size(), 2u);
  auto& gpu = by["nvidia"]["devices"][1];
  EXPECT_EQ(gpu["id"], "GPU-bbbb");
  EXPECT_EQ(gpu["model"], "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(gpu["pciBusId"], "0000:00:07.0");
  EXPECT_EQ(gpu["numaNode"], 0);
  EXPECT_EQ(gpu["memoryBytes"], 0);
  EXPECT_EQ(gpu["deviceNodes"][0], tree_.path("dev/nvidia1"));

  EXPECT_EQ(by["mlu"]["devices"].size(), 4u);
  EXPECT_EQ(by["cpu"]["source"], "sysfs");
  ASSERT_EQ(by["cpu"]["devices"].size(), 8u);
  EXPECT_EQ(by["cpu"]["devices"][5]["model"], "HiSilicon Kunpeng 920");
  EXPECT_EQ(by["cpu"]["devices"][5]["numaNode"], 1);
}

TEST_F(DuetDevicesTest, TableShowsDevicesAndSources) {
  tree_.remove("dev/hisi_hdc");
  auto [output, status] = run({"--handler", "ascend", "--ascend-chip", "910B"});
  EXPECT_EQ(WEXITSTATUS(status), 0) << output;
  EXPECT_THAT(output, HasSubstr("KIND     ID   MODEL"));
  EXPECT_THAT(output,
              HasSubstr("ascend   0    Ascend910B   -        -      Unhealthy   control node " +
                        tree_.path("dev/hisi_hdc") + " is missing"));
  EXPECT_THAT(output, HasSubstr("ascend    devfs    8         DCMI unavailable"));
  EXPECT_THAT(output, Not(HasSubstr("nvidia")));
}

TEST_F(DuetDevicesTest, AnEmptyHostExitsZero) {
  FakeTree empty;
  ChildProcess child({bin("duet-devices"), "--dev-root", empty.path("dev"), "--sys-root",
                      empty.path("sys"), "--proc-root", empty.path("proc"), "--json",
                      "--nvml-library", "/nonexistent/libnvidia-ml.so.1"});
  int status = child.wait();
  EXPECT_EQ(WEXITSTATUS(status), 0) << child.output();
  auto doc = json_of(child.output());
  for (auto& p : doc["plugins"]) EXPECT_TRUE(p["devices"].empty()) << p.dump();
}

TEST_F(DuetDevicesTest, BadFlagsAreUsageErrors) {
  auto [output, status] = run({"--bogus"});
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_THAT(output, HasSubstr("unknown flag \"--bogus\""));
  auto [output2, status2] = run({"--handler", "tpu"});
  EXPECT_EQ(WEXITSTATUS(status2), 2);
  EXPECT_THAT(output2, HasSubstr("unknown handler"));
}

}  // namespace
}  // namespace duet::test
