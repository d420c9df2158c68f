#include "deviceplugin/topology_picker.h"

#include <gtest/gtest.h>

namespace duet::deviceplugin {
namespace {

PickInput numa_input(std::vector<int> nodes) {
  PickInput in;
  in.group = nodes;
  in.affinity = [nodes](std::size_t a, std::size_t b) { return nodes[a] == nodes[b] ? 10 : 0; };
  return in;
}

TEST(TopologyPicker, KeepsASetOnOneNode) {
  auto in = numa_input({0, 1, 0, 1, 1});
  EXPECT_EQ(pick_closest(in, 2), (std::vector<std::size_t>{0, 2}));  // exact fit on node 0
  EXPECT_EQ(pick_closest(in, 3), (std::vector<std::size_t>{1, 3, 4}));
}

TEST(TopologyPicker, SingleDeviceComesFromTheFullestNode) {
  // Node 0 has one free device left, node 1 three: take node 0's so node 1 stays whole.
  auto in = numa_input({1, 1, 0, 1});
  EXPECT_EQ(pick_closest(in, 1), std::vector<std::size_t>{2});
}

TEST(TopologyPicker, ZeroOrTooManyGiveNothing) {
  auto in = numa_input({0, 0});
  EXPECT_TRUE(pick_closest(in, 0).empty());
  EXPECT_TRUE(pick_closest(in, 3).empty());
}

TEST(TopologyPicker, GreedyBeyondTheExhaustiveLimit) {
  std::vector<int> nodes;
  for (int i = 0; i < 40; ++i) nodes.push_back(i % 2);
  auto picked = pick_closest(numa_input(nodes), 20);
  ASSERT_EQ(picked.size(), 20u);
  for (auto i : picked) EXPECT_EQ(nodes[i], nodes[picked[0]]);
}

}  // namespace
}  // namespace duet::deviceplugin
