#pragma once
// Which cpus a cpu-handler replica is pinned to: whole cores, packed into as few NUMA nodes as
// possible, best fit first so large free nodes and whole cores stay free for later replicas.

#include <cstddef>
#include <string>
#include <vector>

namespace duet::deviceplugin {

struct CpuSlot {
  int cpu = 0;
  int node = -1;                 // NUMA node, -1 when unknown
  int core = 0;                  // the physical core: its first hardware thread
  std::size_t core_threads = 1;  // hardware threads the core has in all (free or not)
};

struct PackResult {
  std::vector<int> cpus;  // ascending; empty when `reason` is set
  int numa_node = -1;     // the one node used, else -1
  std::string reason;
};

// Chooses `count` of the `free` cpus. One node when any can hold them all (the one with the
// fewest free cpus that can); otherwise the largest nodes, then the best fitting one for the
// rest. Inside a node: whole free cores first, then the core whose free threads fit best.
PackResult pack_cores(std::size_t count, const std::vector<CpuSlot>& free);

}  // namespace duet::deviceplugin
