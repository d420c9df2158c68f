#include "deviceplugin/cpu/cpu_plugin.h"

#include <gmock/gmock.h>

#include "deviceplugin/cpu/cpu_model.h"
#include "support/fake_tree.h"

namespace duet::deviceplugin {
namespace {

using testing::HasSubstr;

std::set<std::string> cpu_ids(int first, int last) {
  std::set<std::string> out;
  for (int i = first; i <= last; ++i) out.insert(std::to_string(i));
  return out;
}

std::vector<int> range(int first, int last) {
  std::vector<int> out;
  for (int i = first; i <= last; ++i) out.push_back(i);
  return out;
}

TEST(CpuModel, NamesArmCoresByImplementerAndPart) {
  EXPECT_EQ(arm_cpu_model(0x48, 0xd01).name, "HiSilicon Kunpeng 920");
  EXPECT_EQ(arm_cpu_model(0x70, 0x660).name, "Phytium FTC660");
  EXPECT_EQ(arm_cpu_model(0x70, 0x663).name, "Phytium FTC663");
  EXPECT_EQ(arm_cpu_model(0x70, 0x303).name, "Phytium CPU part 0x303");
  EXPECT_EQ(arm_cpu_model(0x41, 0xd0c).name, "Arm Neoverse-N1");
  EXPECT_EQ(arm_cpu_model(0x41, 0xfff).name, "Arm core 0xfff");
  EXPECT_EQ(arm_cpu_model(0x61, 0x22).name, "ARM implementer 0x61 part 0x22");
}

TEST(CpuModel, ParsesCpuinfo) {
  auto x86 = parse_cpuinfo(test::FakeTree::x86_cpuinfo(2));
  ASSERT_EQ(x86.size(), 2u);
  EXPECT_EQ(x86[1].name, "Intel(R) Xeon(R) Platinum 8480+");
  EXPECT_EQ(x86[1].vendor, "GenuineIntel");
  auto phytium = parse_cpuinfo(test::FakeTree::phytium_cpuinfo(4));
  EXPECT_EQ(phytium[3].name, "Phytium FTC662");
}

class KunpengTest : public testing::Test {
 protected:
  KunpengTest() {
    // Two sockets of 32 cores, one NUMA node each, no SMT: a Kunpeng 920 5250-like box.
    tree_.add_cpus({2, 32, 1, test::FakeTree::kunpeng_cpuinfo(64)});
    plugin_.discover();
  }

  test::FakeTree tree_;
  CpuPlugin plugin_{tree_.paths()};
};

TEST_F(KunpengTest, DiscoversEveryCoreWithItsNumaNode) {
  auto devices = plugin_.devices();
  ASSERT_EQ(devices.size(), 64u);
  EXPECT_EQ(devices[0].kind, "cpu");
  EXPECT_EQ(devices[40].id, "40");
  EXPECT_EQ(devices[40].index, 40);
  EXPECT_EQ(devices[40].model, "HiSilicon Kunpeng 920");
  EXPECT_EQ(devices[40].attributes.at("vendor"), "HiSilicon");
  EXPECT_EQ(devices[31].numa_node, 0);
  EXPECT_EQ(devices[32].numa_node, 1);
  EXPECT_EQ(plugin_.source().name, "sysfs");
}

TEST_F(KunpengTest, PacksIntoOneNumaNodeWithOmpThreads) {
  auto result = plugin_.allocate(8, cpu_ids(0, 63));
  ASSERT_TRUE(result) << result.reason;
  const auto& a = *result.allocation;
  EXPECT_EQ(a.cpus, range(0, 7));
  EXPECT_EQ(a.numa_node, 0);
  EXPECT_EQ(a.env.at("OMP_NUM_THREADS"), "8");
  EXPECT_EQ(a.device_ids.size(), 8u);
  EXPECT_TRUE(a.device_nodes.empty());
}

TEST_F(KunpengTest, BestFitPicksTheFullerNode) {
  // Node 0 has 10 free, node 1 all 32: 8 cpus fit in node 0 and leave node 1 whole.
  std::set<std::string> free = cpu_ids(22, 63);
  auto result = plugin_.allocate(8, free);
  ASSERT_TRUE(result);
  EXPECT_EQ(result.allocation->cpus, range(22, 29));
  EXPECT_EQ(result.allocation->numa_node, 0);
}

TEST_F(KunpengTest, SpansTheFewestNodesWhenOneIsNotEnough) {
  auto result = plugin_.allocate(40, cpu_ids(0, 63));
  ASSERT_TRUE(result);
  EXPECT_EQ(result.allocation->cpus.size(), 40u);
  EXPECT_EQ(result.allocation->numa_node, -1);
  EXPECT_EQ(result.allocation->env.at("OMP_NUM_THREADS"), "40");
  EXPECT_EQ(plugin_.allocate(65, cpu_ids(0, 63)).reason,
            "insufficient cpu devices: need 65, free 64");
}

TEST_F(KunpengTest, ZeroSharesEveryCore) {
  auto result = plugin_.allocate(0, {});
  ASSERT_TRUE(result);
  EXPECT_TRUE(result.allocation->cpus.empty());
  EXPECT_TRUE(result.allocation->env.empty());
}

TEST_F(KunpengTest, AnOfflineCpuIsUnhealthyAndNotPinned) {
  tree_.write("sys/devices/system/cpu/online", "0-4,6-63\n");
  auto changed = plugin_.check_health();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].health, DeviceHealth::unhealthy("cpu 5 is offline"));
  auto result = plugin_.allocate(8, cpu_ids(0, 63));
  ASSERT_TRUE(result);
  EXPECT_EQ(result.allocation->cpus, (std::vector<int>{0, 1, 2, 3, 4, 6, 7, 8}));
  tree_.write("sys/devices/system/cpu/online", "0-63\n");
  EXPECT_TRUE(plugin_.check_health().at(0).health.ok());
}

TEST(CpuPlugin, X86WithSmtKeepsSiblingsTogether) {
  test::FakeTree tree;
  tree.add_cpus({2, 8, 2, test::FakeTree::x86_cpuinfo(16)});
  CpuPlugin plugin(tree.paths());
  auto devices = plugin.discover();
  ASSERT_EQ(devices.size(), 16u);
  EXPECT_EQ(devices[3].model, "Intel(R) Xeon(R) Platinum 8480+");
  EXPECT_EQ(devices[3].attributes.at("core"), "2");
  // cpu 1 is taken: its sibling 0 is the best fit for one thread, whole cores stay whole.
  std::set<std::string> free = cpu_ids(0, 15);
  free.erase("1");
  auto one = plugin.allocate(1, free);
  ASSERT_TRUE(one);
  EXPECT_EQ(one.allocation->cpus, std::vector<int>{0});
  auto four = plugin.allocate(4, free);
  ASSERT_TRUE(four);
  EXPECT_EQ(four.allocation->cpus, (std::vector<int>{2, 3, 4, 5}));
  auto three = plugin.allocate(3, free);
  ASSERT_TRUE(three);
  EXPECT_EQ(three.allocation->cpus, (std::vector<int>{0, 2, 3}));
}

TEST(CpuPlugin, FallsBackToCpuinfoWithoutSysfs) {
  test::FakeTree tree;
  tree.write("proc/cpuinfo", test::FakeTree::x86_cpuinfo(4));
  CpuPlugin plugin(tree.paths());
  EXPECT_EQ(plugin.discover().size(), 4u);
  EXPECT_EQ(plugin.source().name, "procfs");
  EXPECT_THAT(plugin.source().detail, HasSubstr("unreadable"));
  EXPECT_EQ(plugin.devices()[0].numa_node, -1);
  EXPECT_TRUE(plugin.allocate(2, cpu_ids(0, 3)));
}

}  // namespace
}  // namespace duet::deviceplugin
