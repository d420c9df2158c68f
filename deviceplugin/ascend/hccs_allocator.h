#pragma once
// The Ascend 910 placement rules: a board of 8 NPUs is two HCCS rings of four (0-3, 4-7);
// a replica takes 1, 2, 4 or 8 of them, groups of 2 or 4 inside one ring, best fit first.

#include <cstddef>
#include <string>
#include <vector>

namespace duet::deviceplugin {

inline constexpr int kHccsRingSize = 4;   // NPUs an HCCS ring links
inline constexpr int kHccsBoardSize = 8;  // NPUs on a board: two rings

struct HccsChoice {
  std::vector<int> ids;  // chosen physical ids, ascending; empty when `reason` is set
  std::string reason;    // why no placement fits
};

// Chooses `count` of the free physical ids `free_ids` (healthy, not held). Rings are id / 4,
// boards id / 8. Best fit, so whole rings and boards stay available for bigger requests:
//   1: a ring with 1 free, then 3, then 2, then 4 (taking one from a ring of 2 would leave a
//      lone device where a pair fitted);
//   2: a ring with exactly 2 free, then 3, then 4;
//   4: a ring with all 4 free;
//   8: a board with all 8 free.
// Among rings of equal rank, the one on the board with fewer free devices, then the lowest.
HccsChoice choose_hccs(std::size_t count, const std::vector<int>& free_ids);

}  // namespace duet::deviceplugin
