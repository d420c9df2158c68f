#include "deviceplugin/ascend/hccs_allocator.h"

#include <algorithm>
#include <map>

namespace duet::deviceplugin {

namespace {

std::string id_list(const std::vector<int>& ids) {
  std::string out;
  for (int id : ids) {
    if (!out.empty()) out += ',';
    out += std::to_string(id);
  }
  return out.empty() ? "none" : out;
}

// Where in the preference order a ring with `free` devices stands for a request of `count`;
// -1 when it cannot serve it.
int ring_rank(std::size_t count, std::size_t free) {
  static const std::map<std::size_t, std::vector<std::size_t>> order = {
      {1, {1, 3, 2, 4}}, {2, {2, 3, 4}}, {4, {4}}};
  const auto& o = order.at(count);
  auto it = std::find(o.begin(), o.end(), free);
  return it == o.end() ? -1 : static_cast<int>(it - o.begin());
}

HccsChoice choose_in_ring(std::size_t count, const std::vector<int>& free_ids) {
  std::map<int, std::vector<int>> rings;
  std::map<int, std::size_t> board_free;
  for (int id : free_ids) {
    rings[id / kHccsRingSize].push_back(id);
    ++board_free[id / kHccsBoardSize];
  }
  int best_ring = -1;
  int best_rank = 0;
  std::size_t best_board_free = 0;
  for (const auto& [ring, ids] : rings) {
    int rank = ring_rank(count, ids.size());
    if (rank < 0) continue;
    std::size_t on_board = board_free[ring * kHccsRingSize / kHccsBoardSize];
    if (best_ring < 0 || rank < best_rank || (rank == best_rank && on_board < best_board_free)) {
      best_ring = ring, best_rank = rank, best_board_free = on_board;
    }
  }
  if (best_ring < 0) {
    std::string what = count == kHccsRingSize
                           ? "no HCCS ring has all 4 ascend devices free"
                           : "no HCCS ring has " + std::to_string(count) + " ascend devices free";
    return {{},
            what + ": free " + std::to_string(free_ids.size()) + " (" + id_list(free_ids) + ")"};
  }
  const auto& ids = rings[best_ring];
  return {std::vector<int>(ids.begin(), ids.begin() + static_cast<long>(count)), {}};
}

HccsChoice choose_board(const std::vector<int>& free_ids) {
  std::map<int, std::vector<int>> boards;
  for (int id : free_ids) boards[id / kHccsBoardSize].push_back(id);
  for (const auto& [board, ids] : boards)
    if (ids.size() == kHccsBoardSize) return {ids, {}};
  return {{},
          "no board has all 8 ascend devices free: free " + std::to_string(free_ids.size()) + " (" +
              id_list(free_ids) + ")"};
}

}  // namespace

HccsChoice choose_hccs(std::size_t count, const std::vector<int>& free_ids) {
  std::vector<int> sorted = free_ids;
  std::sort(sorted.begin(), sorted.end());
  if (count == 0) return {};
  if (count != 1 && count != 2 && count != 4 && count != kHccsBoardSize)
    return {{},
            "ascend 910 replicas take 1, 2, 4 or 8 devices (HCCS rings of 4): need " +
                std::to_string(count)};
  if (sorted.size() < count)
    return {{},
            "insufficient ascend devices: need " + std::to_string(count) + ", free " +
                std::to_string(sorted.size())};
  if (count == kHccsBoardSize) return choose_board(sorted);
  return choose_in_ring(count, sorted);
}

}  // namespace duet::deviceplugin
