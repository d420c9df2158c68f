// duetd placing engines on devices of a fake host tree: the device env each engine gets,
// Pending when devices run out, and re-placement when a device disappears.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "duet/common/file_text.h"
#include "support/duetd_harness.h"
#include "support/fake_tree.h"

namespace duet::test {
namespace {

// An engine that prints the device env it got, then serves as duet-sim.
std::string npu_manifest(int replicas, int devices) {
  return "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: npu}\nhandler: ascend\n---\n"
         "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: cpu}\nhandler: cpu\n---\n"
         "apiVersion: duet/v1alpha1\nkind: EngineDeployment\nmetadata: {name: chat}\nspec:\n"
         "  runtimeClassName: npu\n  replicas: " + std::to_string(replicas) + "\n"
         "  resources: {devices: " + std::to_string(devices) + "}\n"
         "  template:\n"
         "    command: [/bin/sh, -c, 'echo \"rt=$ASCEND_RT_VISIBLE_DEVICES phys=$ASCEND_VISIBLE_DEVICES ids=${DEVICE_IDS} n=${DEVICE_COUNT}\"; exec duet-sim --port \"$PORT\"']\n"
         "    readinessProbe: {httpGet: {path: /health}, periodSeconds: 1}\n"
         "    terminationGracePeriodSeconds: 5\n";
}

class Devices : public ::testing::Test {
 protected:
  Devices() {
    tree_.add_ascend(8);
    FakeCpus cpus;
    cpus.nodes = 1;
    cpus.cpus_per_node = 2;  // the cpus this machine really has, so pinning can take effect
    cpus.cpuinfo = FakeTree::x86_cpuinfo(2);
    tree_.add_cpus(cpus);
    duetd_ = std::make_unique<DuetdHarness>(std::vector<std::string>{
        "--dev-root", tree_.path("dev"), "--sys-root", tree_.path("sys"), "--proc-root", tree_.path("proc")});
  }

  void apply(const std::string& yaml) {
    std::ofstream(duetd_->dir() / "m.yaml") << yaml;
    auto result = duetd_->duetctl({"apply", "-f", (duetd_->dir() / "m.yaml").string()});
    ASSERT_EQ(result.exit_code, 0) << result.out;
  }

  nlohmann::json engine(const std::string& name) { return duetd_->get("/apis/v1/engines/" + name); }

  std::string engine_log(const std::string& name) {
    return read_text_file(duetd_->dir() / "state" / "logs" / (name + ".log")).value_or("");
  }

  FakeTree tree_;
  std::unique_ptr<DuetdHarness> duetd_;
};

TEST_F(Devices, EachReplicaGetsItsOwnDevicesAndTheirEnv) {
  apply(npu_manifest(2, 2));
  ASSERT_TRUE(eventually([&] { return duetd_->ready_engines("chat") == 2; }, 20s)) << duetd_->get("/apis/v1/engines").dump(2);
  std::set<std::string> held;
  for (const char* name : {"chat-0", "chat-1"}) {
    auto devices = engine(name)["devices"];
    ASSERT_EQ(devices.size(), 2u) << name;
    for (const auto& id : devices) EXPECT_TRUE(held.insert(id.get<std::string>()).second) << "shared " << id;
    auto ids = devices[0].get<std::string>() + "," + devices[1].get<std::string>();
    EXPECT_TRUE(eventually([&] { return engine_log(name).find("ids=" + ids + " n=2") != std::string::npos; }, 5s))
        << engine_log(name);
    EXPECT_NE(engine_log(name).find("phys=" + ids), std::string::npos) << engine_log(name);
  }
  auto devices = duetd_->get("/apis/v1/devices")["items"];
  int ascend = 0, held_by_chat = 0;
  for (const auto& d : devices) {
    if (d["kind"] != "ascend") continue;
    ++ascend;
    if (d["engine"].get<std::string>().starts_with("chat-")) ++held_by_chat;
  }
  EXPECT_EQ(ascend, 8);
  EXPECT_EQ(held_by_chat, 4);
  auto table = duetd_->duetctl({"get", "devices"});
  EXPECT_NE(table.out.find("Healthy"), std::string::npos) << table.out;
  auto metrics = duetd_->request(http::bhttp::verb::get, "/metrics").body();
  EXPECT_NE(metrics.find("duet_devices{kind=\"ascend\",health=\"Healthy\"} 8"), std::string::npos) << metrics;
}

TEST_F(Devices, ReplicaWithoutFreeDevicesStaysPendingWithTheReason) {
  apply(npu_manifest(5, 2));
  ASSERT_TRUE(eventually([&] { return duetd_->ready_engines("chat") == 4; }, 20s));
  auto pending = engine("chat-4");
  EXPECT_EQ(pending["state"], "Pending");
  EXPECT_EQ(pending["message"], "insufficient ascend devices: need 2, free 0");
  // Scaling down frees devices; nothing is left Pending.
  apply(npu_manifest(3, 2));
  ASSERT_TRUE(eventually([&] { return duetd_->get("/apis/v1/engines")["items"].size() == 3; }, 20s));
}

TEST_F(Devices, EngineOnADeviceThatDisappearsIsPlacedAgain) {
  apply(npu_manifest(3, 2));
  ASSERT_TRUE(eventually([&] { return duetd_->ready_engines("chat") == 3; }, 20s));
  auto before = engine("chat-0");
  auto lost = before["devices"][0].get<std::string>();
  tree_.remove("dev/davinci" + lost);
  // Within 5 s (SPEC §3) the device is unhealthy and chat-0 runs on the two free devices.
  ASSERT_TRUE(eventually([&] {
    auto e = engine("chat-0");
    return e["state"] == "Ready" && e["pid"] != before["pid"] && e["devices"].size() == 2;
  }, 15s)) << engine("chat-0").dump();
  auto after = engine("chat-0");
  for (const auto& id : after["devices"]) EXPECT_NE(id.get<std::string>(), lost);
  auto device = duetd_->get("/apis/v1/devices/" + lost);
  EXPECT_EQ(device["health"], "Unhealthy");
  EXPECT_EQ(device["engine"], "");
  // The event on the replica names the device and why.
  bool told = false;
  auto events = duetd_->get("/apis/v1/deployments/chat/events");
  for (const auto& e : events["items"])
    told |= e["object"] == "chat-0" && e["reason"] == "DeviceUnhealthy" &&
            e["message"].get<std::string>().starts_with("device ascend/" + lost + " is Unhealthy: ");
  EXPECT_TRUE(told) << events.dump();

  tree_.write("dev/davinci" + lost);
  EXPECT_TRUE(eventually([&] { return duetd_->get("/apis/v1/devices/" + lost)["health"] == "Healthy"; }, 10s));
}

TEST_F(Devices, CpuHandlerPinsTheEngine) {
  apply("apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: cpu}\nhandler: cpu\n---\n"
        "apiVersion: duet/v1alpha1\nkind: EngineDeployment\nmetadata: {name: cpu-engine}\nspec:\n"
        "  runtimeClassName: cpu\n  replicas: 1\n  resources: {devices: 1}\n"
        "  template:\n    command: [/bin/sh, -c, 'echo \"omp=$OMP_NUM_THREADS\"; exec duet-sim --port \"$PORT\"']\n"
        "    readinessProbe: {httpGet: {path: /health}, periodSeconds: 1}\n");
  ASSERT_TRUE(eventually([&] { return duetd_->ready_engines("cpu-engine") == 1; }, 20s));
  auto e = engine("cpu-engine-0");
  ASSERT_EQ(e["devices"].size(), 1u);
  auto status = read_text_file("/proc/" + std::to_string(e["pid"].get<int>()) + "/status").value_or("");
  EXPECT_NE(status.find("Cpus_allowed_list:\t" + e["devices"][0].get<std::string>() + "\n"), std::string::npos) << status;
  EXPECT_TRUE(eventually([&] { return engine_log("cpu-engine-0").find("omp=1") != std::string::npos; }, 5s));
}

}  // namespace
}  // namespace duet::test
