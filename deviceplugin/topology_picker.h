#pragma once
// Chooses which N of the free devices go together: the set whose pairs are closest (NVLink,
// same PCIe switch, same NUMA node), and among equals the best fit, so big groups stay whole.

#include <cstddef>
#include <functional>
#include <vector>

namespace duet::deviceplugin {

struct PickInput {
  // How close devices i and j are; higher is closer. Symmetric.
  std::function<int(std::size_t, std::size_t)> affinity;
  // A device's locality group (NUMA node, ring, ...), -1 when unknown. Among sets of equal
  // affinity the one drawn from the groups with the fewest free devices wins (best fit).
  std::vector<int> group;
};

// Indices (into `input.group`) of the `count` devices to take, ascending. Exhaustive while the
// number of combinations is small (every real accelerator host), greedy beyond.
std::vector<std::size_t> pick_closest(const PickInput& input, std::size_t count);

}  // namespace duet::deviceplugin
