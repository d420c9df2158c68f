#include "deviceplugin/topology_picker.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace duet::deviceplugin {

namespace {

// 16 choose 8 is 12870; a host with more free accelerators than that allows is exotic.
constexpr double kMaxCombinations = 20000;

struct Score {
  long long affinity = 0;  // higher is better
  long long fit = 0;       // lower is better: free devices left in the groups used

  bool better_than(const Score& o) const {
    return affinity != o.affinity ? affinity > o.affinity : fit < o.fit;
  }
};

class Picker {
 public:
  Picker(const PickInput& input, std::size_t count) : in_(input), count_(count) {
    for (int g : in_.group) ++group_size_[g];
  }

  Score score(const std::vector<std::size_t>& set) const {
    Score s;
    for (std::size_t a = 0; a < set.size(); ++a) {
      for (std::size_t b = a + 1; b < set.size(); ++b) s.affinity += in_.affinity(set[a], set[b]);
      s.fit += group_size_.at(in_.group[set[a]]);
    }
    return s;
  }

  std::vector<std::size_t> exhaustive() const {
    std::size_t n = in_.group.size();
    std::vector<std::size_t> set(count_), best;
    std::iota(set.begin(), set.end(), 0);
    Score best_score;
    while (true) {
      Score s = score(set);
      // Combinations come in lexicographic order, so ties keep the lowest indices.
      if (best.empty() || s.better_than(best_score)) best = set, best_score = s;
      // Next combination.
      std::size_t i = count_;
      while (i > 0 && set[i - 1] == n - count_ + i - 1) --i;
      if (i == 0) break;
      ++set[i - 1];
      for (std::size_t j = i; j < count_; ++j) set[j] = set[j - 1] + 1;
    }
    return best;
  }

  // From each seed, add the device closest to those taken; keep the best result.
  std::vector<std::size_t> greedy() const {
    std::size_t n = in_.group.size();
    std::vector<std::size_t> best;
    Score best_score;
    for (std::size_t seed = 0; seed < n; ++seed) {
      std::vector<std::size_t> set{seed};
      std::vector<bool> taken(n, false);
      taken[seed] = true;
      while (set.size() < count_) {
        std::size_t pick = n;
        long long pick_aff = 0;
        for (std::size_t c = 0; c < n; ++c) {
          if (taken[c]) continue;
          long long aff = 0;
          for (auto t : set) aff += in_.affinity(c, t);
          if (pick == n || aff > pick_aff) pick = c, pick_aff = aff;
        }
        set.push_back(pick);
        taken[pick] = true;
      }
      std::sort(set.begin(), set.end());
      Score s = score(set);
      if (best.empty() || s.better_than(best_score)) best = set, best_score = s;
    }
    return best;
  }

 private:
  const PickInput& in_;
  std::size_t count_;
  std::map<int, long long> group_size_;
};

double combinations(std::size_t n, std::size_t k) {
  double c = 1;
  for (std::size_t i = 0; i < k; ++i)
    c = c * static_cast<double>(n - i) / static_cast<double>(i + 1);
  return c;
}

}  // namespace

std::vector<std::size_t> pick_closest(const PickInput& input, std::size_t count) {
  std::size_t n = input.group.size();
  if (count == 0 || count > n) return {};
  Picker picker(input, count);
  if (combinations(n, count) <= kMaxCombinations) return picker.exhaustive();
  return picker.greedy();
}

}  // namespace duet::deviceplugin
