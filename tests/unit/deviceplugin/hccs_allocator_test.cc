#include "deviceplugin/ascend/hccs_allocator.h"

#include <gtest/gtest.h>

namespace duet::deviceplugin {
namespace {

struct Case {
  std::string name;
  std::vector<int> used;  // taken on a board of 8 (or 16 for two boards)
  std::size_t count;
  std::vector<int> expected;  // empty: no placement
  std::string reason;         // substring of the reason when there is none
  int devices = 8;
};

std::vector<int> free_of(const Case& c) {
  std::vector<int> free;
  for (int id = 0; id < c.devices; ++id)
    if (std::find(c.used.begin(), c.used.end(), id) == c.used.end()) free.push_back(id);
  return free;
}

// Names the case in test output instead of dumping its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class HccsRules : public testing::TestWithParam<Case> {};

TEST_P(HccsRules, ChoosesBestFitInsideRings) {
  const auto& c = GetParam();
  auto choice = choose_hccs(c.count, free_of(c));
  EXPECT_EQ(choice.ids, c.expected) << choice.reason;
  if (c.expected.empty())
    EXPECT_NE(choice.reason.find(c.reason), std::string::npos) << choice.reason;
  else
    EXPECT_TRUE(choice.reason.empty());
}

const std::string kSizes = "take 1, 2, 4 or 8 devices";
const std::string kNoRing = "no HCCS ring has all 4 ascend devices free";
const std::string kNoBoard = "no board has all 8 ascend devices free";

INSTANTIATE_TEST_SUITE_P(
    Occupancy, HccsRules,
    testing::Values(
        // An empty board.
        Case{"empty_1", {}, 1, {0}, ""}, Case{"empty_2", {}, 2, {0, 1}, ""},
        Case{"empty_3", {}, 3, {}, kSizes}, Case{"empty_4", {}, 4, {0, 1, 2, 3}, ""},
        Case{"empty_5", {}, 5, {}, kSizes}, Case{"empty_8", {}, 8, {0, 1, 2, 3, 4, 5, 6, 7}, ""},
        // One ring partly used (3 free): singles and pairs go there, 4 takes the other ring.
        Case{"ring0_3free_1", {0}, 1, {1}, ""}, Case{"ring0_3free_2", {0}, 2, {1, 2}, ""},
        Case{"ring0_3free_3", {0}, 3, {}, kSizes}, Case{"ring0_3free_4", {0}, 4, {4, 5, 6, 7}, ""},
        Case{"ring0_3free_5", {0}, 5, {}, kSizes},
        Case{"ring0_3free_8", {0}, 8, {}, "insufficient ascend devices: need 8, free 7"},
        // A ring with exactly 2 free: the pair goes there; a single too, before a whole ring.
        Case{"ring0_2free_1", {0, 1}, 1, {2}, ""}, Case{"ring0_2free_2", {0, 1}, 2, {2, 3}, ""},
        Case{"ring0_2free_4", {0, 1}, 4, {4, 5, 6, 7}, ""},
        // A ring with 1 free: the single fills it.
        Case{"ring0_1free_1", {0, 1, 2}, 1, {3}, ""},
        Case{"ring0_1free_2", {0, 1, 2}, 2, {4, 5}, ""},
        Case{"ring0_1free_4", {0, 1, 2}, 4, {4, 5, 6, 7}, ""},
        // 3 free beats 2 free for a single: taking from a pair would strand its partner.
        Case{"rings_2and3_1", {0, 1, 4}, 1, {5}, ""},
        Case{"rings_2and3_2", {0, 1, 4}, 2, {2, 3}, ""},
        Case{"rings_2and3_4", {0, 1, 4}, 4, {}, kNoRing},
        // One ring full.
        Case{"ring0_full_1", {0, 1, 2, 3}, 1, {4}, ""},
        Case{"ring0_full_2", {0, 1, 2, 3}, 2, {4, 5}, ""},
        Case{"ring0_full_3", {0, 1, 2, 3}, 3, {}, kSizes},
        Case{"ring0_full_4", {0, 1, 2, 3}, 4, {4, 5, 6, 7}, ""},
        Case{"ring0_full_5", {0, 1, 2, 3}, 5, {}, kSizes},
        Case{"ring0_full_8", {0, 1, 2, 3}, 8, {}, "insufficient ascend devices: need 8, free 4"},
        // Fragmented: every other device used; pairs still fit inside a ring, 4 does not.
        Case{"fragmented_1", {0, 2, 4, 6}, 1, {1}, ""},
        Case{"fragmented_2", {0, 2, 4, 6}, 2, {1, 3}, ""},
        Case{"fragmented_3", {0, 2, 4, 6}, 3, {}, kSizes},
        Case{"fragmented_4", {0, 2, 4, 6}, 4, {}, kNoRing + ": free 4 (1,3,5,7)"},
        Case{"fragmented_5", {0, 2, 4, 6}, 5, {}, kSizes},
        Case{"fragmented_8", {0, 2, 4, 6}, 8, {}, "insufficient ascend devices: need 8, free 4"},
        // 1 free in each ring: no pair anywhere.
        Case{"one_per_ring_2", {0, 1, 2, 4, 5, 6}, 2, {}, "no HCCS ring has 2 ascend devices free"},
        Case{"one_per_ring_1", {0, 1, 2, 4, 5, 6}, 1, {3}, ""},
        // Everything used.
        Case{"full_1",
             {0, 1, 2, 3, 4, 5, 6, 7},
             1,
             {},
             "insufficient ascend devices: need 1, free 0"},
        Case{"full_2",
             {0, 1, 2, 3, 4, 5, 6, 7},
             2,
             {},
             "insufficient ascend devices: need 2, free 0"},
        Case{"seven_used_8",
             {0, 1, 2, 3, 4, 5, 6},
             8,
             {},
             "insufficient ascend devices: need 8, free 1"},
        // Two boards: a whole ring comes from the board already broken, so board 0 stays whole.
        Case{"two_boards_4", {8}, 4, {12, 13, 14, 15}, "", 16},
        Case{"two_boards_8", {8}, 8, {0, 1, 2, 3, 4, 5, 6, 7}, "", 16},
        Case{"two_boards_1", {8}, 1, {9}, "", 16},
        Case{"two_broken_boards_8", {0, 8}, 8, {}, kNoBoard, 16}),
    [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(HccsRules, ZeroIsAnEmptyChoice) {
  auto choice = choose_hccs(0, {0, 1});
  EXPECT_TRUE(choice.ids.empty());
  EXPECT_TRUE(choice.reason.empty());
}

}  // namespace
}  // namespace duet::deviceplugin
