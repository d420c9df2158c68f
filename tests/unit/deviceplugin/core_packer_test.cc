#include "deviceplugin/cpu/core_packer.h"

#include <gtest/gtest.h>

namespace duet::deviceplugin {
namespace {

// cpus [first, last] on `node`, SMT pairs (2k, 2k+1) when `smt`.
void add(std::vector<CpuSlot>& slots, int first, int last, int node, bool smt) {
  for (int cpu = first; cpu <= last; ++cpu)
    slots.push_back({cpu, node, smt ? cpu - cpu % 2 : cpu, smt ? 2u : 1u});
}

TEST(CorePacker, WholeCoresFirstThenTheBestFittingShare) {
  std::vector<CpuSlot> free;
  add(free, 1, 1, 0, true);  // cpu 0 taken: core 0 is shared
  add(free, 2, 7, 0, true);
  auto r = pack_cores(5, free);
  EXPECT_EQ(r.cpus, (std::vector<int>{1, 2, 3, 4, 5}));  // two whole cores + the lone thread
  EXPECT_EQ(r.numa_node, 0);
}

TEST(CorePacker, UnknownNumaIsOneGroup) {
  std::vector<CpuSlot> free;
  add(free, 0, 3, -1, false);
  auto r = pack_cores(2, free);
  EXPECT_EQ(r.cpus, (std::vector<int>{0, 1}));
  EXPECT_EQ(r.numa_node, -1);
}

TEST(CorePacker, ThreeNodesUsesTheTwoLargest) {
  std::vector<CpuSlot> free;
  add(free, 0, 3, 0, false);    // 4 free
  add(free, 8, 15, 1, false);   // 8 free
  add(free, 16, 21, 2, false);  // 6 free
  auto r = pack_cores(12, free);
  ASSERT_EQ(r.cpus.size(), 12u);
  // Node 1 whole, then the 4 that remain from node 0 (exact fit) rather than node 2.
  EXPECT_EQ(r.cpus.front(), 0);
  EXPECT_EQ(r.cpus.back(), 15);
  EXPECT_EQ(r.numa_node, -1);
}

TEST(CorePacker, TooFewIsAReason) {
  std::vector<CpuSlot> free;
  add(free, 0, 1, 0, false);
  auto r = pack_cores(3, free);
  EXPECT_TRUE(r.cpus.empty());
  EXPECT_EQ(r.reason, "insufficient cpu devices: need 3, free 2");
}

}  // namespace
}  // namespace duet::deviceplugin
