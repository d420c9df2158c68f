#include "deviceplugin/cpu/core_packer.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace duet::deviceplugin {

namespace {

struct Group {
  int key = 0;
  std::vector<int> cpus;  // free cpus of the group, ascending
  bool whole = false;     // every thread of the core is free
};

// Best fit over groups, the shape shared by nodes and cores: take whole groups that fit while
// `prefer_whole` ones exist, else the smallest group that covers the rest, else the largest.
template <typename Take>
void fill(std::size_t need, std::vector<Group> groups, Take take) {
  // Smaller first; on equal size a shared (not whole) core first, then the lower key.
  auto fits_better = [](const Group& a, const Group& b) {
    return std::tuple(a.cpus.size(), a.whole, a.key) < std::tuple(b.cpus.size(), b.whole, b.key);
  };
  while (need > 0 && !groups.empty()) {
    auto whole = std::find_if(groups.begin(), groups.end(),
                              [&](const Group& g) { return g.whole && g.cpus.size() <= need; });
    auto pick = whole;
    if (pick == groups.end()) {
      for (auto it = groups.begin(); it != groups.end(); ++it)
        if (it->cpus.size() >= need && (pick == groups.end() || fits_better(*it, *pick))) pick = it;
    }
    if (pick == groups.end())
      pick = std::max_element(groups.begin(), groups.end(), [&](const Group& a, const Group& b) {
        return a.cpus.size() != b.cpus.size() ? a.cpus.size() < b.cpus.size() : a.key > b.key;
      });
    std::size_t n = std::min(need, pick->cpus.size());
    take(*pick, n);
    need -= n;
    groups.erase(pick);
  }
}

std::vector<int> pack_node(std::size_t count, const std::vector<const CpuSlot*>& slots) {
  std::map<int, Group> cores;
  std::map<int, std::size_t> threads;
  for (const auto* s : slots) {
    auto& g = cores[s->core];
    g.key = s->core;
    g.cpus.push_back(s->cpu);
    threads[s->core] = s->core_threads;
  }
  std::vector<Group> groups;
  for (auto& [core, g] : cores) {
    std::sort(g.cpus.begin(), g.cpus.end());
    g.whole = g.cpus.size() >= threads[core];
    groups.push_back(std::move(g));
  }
  std::vector<int> out;
  fill(count, std::move(groups), [&](const Group& g, std::size_t n) {
    out.insert(out.end(), g.cpus.begin(), g.cpus.begin() + static_cast<long>(n));
  });
  return out;
}

}  // namespace

PackResult pack_cores(std::size_t count, const std::vector<CpuSlot>& free) {
  PackResult result;
  if (count == 0) return result;
  if (free.size() < count) {
    result.reason = "insufficient cpu devices: need " + std::to_string(count) + ", free " +
                    std::to_string(free.size());
    return result;
  }
  std::map<int, std::vector<const CpuSlot*>> by_node;
  for (const auto& s : free) by_node[s.node].push_back(&s);
  std::vector<Group> nodes;
  for (const auto& [node, slots] : by_node) {
    Group g;
    g.key = node;
    for (const auto* s : slots) g.cpus.push_back(s->cpu);
    nodes.push_back(std::move(g));  // never "whole": a node is only taken whole when it must be
  }
  std::vector<int> used_nodes;
  fill(count, std::move(nodes), [&](const Group& g, std::size_t n) {
    auto cpus = pack_node(n, by_node[g.key]);
    result.cpus.insert(result.cpus.end(), cpus.begin(), cpus.end());
    used_nodes.push_back(g.key);
  });
  std::sort(result.cpus.begin(), result.cpus.end());
  if (used_nodes.size() == 1) result.numa_node = used_nodes[0];
  return result;
}

}  // namespace duet::deviceplugin
