#include "deviceplugin/host_files.h"

#include <gtest/gtest.h>

#include "deviceplugin/pci_topology.h"
#include "support/fake_tree.h"

namespace duet::deviceplugin {
namespace {

TEST(HostFiles, ParsesKernelCpuLists) {
  EXPECT_EQ(parse_cpu_list("0-3,8,10-11\n"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_cpu_list(""), std::vector<int>{});
  EXPECT_EQ(parse_cpu_list("5"), std::vector<int>{5});
  EXPECT_FALSE(parse_cpu_list("0-x"));
  EXPECT_FALSE(parse_cpu_list("3-1"));
  EXPECT_FALSE(parse_cpu_list("0-99999999"));  // a corrupt file must not allocate the world
  EXPECT_EQ(format_cpu_list({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(format_cpu_list({}), "");
}

TEST(HostFiles, ReadsKeyValueLinesAndNumbers) {
  EXPECT_EQ(field_value("Model: \t\t NVIDIA H100 80GB HBM3", "Model"), "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(field_value("Bus Location: \t 0000:00:06.0", "Bus Location"), "0000:00:06.0");
  EXPECT_FALSE(field_value("Model Name: x", "Model"));
  EXPECT_EQ(parse_integer("0xd01"), 0xd01);
  EXPECT_EQ(parse_integer(" 42 "), 42);
  EXPECT_FALSE(parse_integer("4x"));
  EXPECT_FALSE(parse_integer(""));
}

TEST(HostFiles, NormalizesPciBusIds) {
  EXPECT_EQ(normalize_pci_bus_id("00000000:1A:00.0"), "0000:1a:00.0");
  EXPECT_EQ(normalize_pci_bus_id("0000:00:06.0"), "0000:00:06.0");
}

TEST(HostFiles, ListsNumberedEntriesOnly) {
  test::FakeTree tree;
  tree.add_ascend(3);
  tree.write("dev/davinci12");
  tree.write("dev/davinciX");
  EXPECT_EQ(numbered_entries(tree.paths().dev_root, "davinci"), (std::vector<int>{0, 1, 2, 12}));
  EXPECT_TRUE(numbered_entries(tree.root() / "missing", "davinci").empty());
  EXPECT_FALSE(read_text(tree.root() / "missing"));
}

TEST(PciTopology, ReadsNumaAndBridgesFromSysfs) {
  test::FakeTree tree;
  tree.add_nvidia_gpu({0, "GPU-a", "m", "0000:18:00.0", 1, {"0000:00:01.0", "0000:17:00.0"}});
  tree.add_nvidia_gpu({1, "GPU-b", "m", "0000:19:00.0", 1, {"0000:00:01.0", "0000:17:00.0"}});
  tree.add_nvidia_gpu({2, "GPU-c", "m", "0000:38:00.0", 1, {"0000:00:02.0"}});
  tree.add_nvidia_gpu({3, "GPU-d", "m", "0000:b8:00.0", 0, {"0000:00:03.0"}});
  auto paths = tree.paths();
  EXPECT_EQ(pci_numa_node(paths, "0000:18:00.0"), 1);
  EXPECT_EQ(pci_numa_node(paths, "0000:ff:00.0"), -1);
  auto a = pci_ancestors(paths, "0000:18:00.0");
  EXPECT_EQ(a, (std::vector<std::string>{"pci0000:00", "0000:00:01.0", "0000:17:00.0"}));
  auto b = pci_ancestors(paths, "0000:19:00.0");
  auto c = pci_ancestors(paths, "0000:38:00.0");
  EXPECT_EQ(pci_affinity(a, 1, b, 1), 30);  // one switch
  EXPECT_EQ(pci_affinity(a, 1, c, 1), 20);  // one host bridge
  EXPECT_EQ(pci_affinity({}, 1, {}, 1), 10);
  EXPECT_EQ(pci_affinity({}, 0, {}, 1), 0);
}

}  // namespace
}  // namespace duet::deviceplugin
