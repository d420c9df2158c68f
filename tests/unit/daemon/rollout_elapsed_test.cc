#include <gtest/gtest.h>

#include <limits>

#include "daemon/manifest/parser.h"
#include "daemon/rollout/elapsed.h"
#include "daemon/rollout/rollout_state.h"

namespace duet::daemon {
namespace {

using namespace std::chrono_literals;

TEST(RolloutElapsed, ComparesWithinTheClocksRange) {
  EXPECT_FALSE(has_elapsed(std::chrono::nanoseconds(29s), 30));
  EXPECT_TRUE(has_elapsed(std::chrono::nanoseconds(30s), 30));
  EXPECT_TRUE(has_elapsed(std::chrono::nanoseconds(0), 0));
}

TEST(RolloutElapsed, ADurationPastTheClocksRangeNeverElapses) {
  // 3000000h is 1.08e19 ns, past int64: converted, it wraps negative and "elapses" at once.
  const int64_t seconds = 3'000'000LL * 3600;
  EXPECT_FALSE(has_elapsed(std::chrono::nanoseconds(1s), seconds));
  EXPECT_FALSE(has_elapsed(std::chrono::nanoseconds::max(), seconds));
  EXPECT_TRUE(has_elapsed(std::chrono::milliseconds(std::chrono::hours(3'000'000)), seconds));
}

TEST(RolloutElapsed, ACheckpointedPauseStartIsClampedToTheClocksRange) {
  auto stable = manifest::parse_manifests(
      "apiVersion: duet/v1alpha1\nkind: EngineDeployment\nmetadata: {name: chat}\nspec:\n"
      "  runtimeClassName: cpu\n  replicas: 1\n  template: {command: [duet-sim]}\n",
      "chat.yaml");
  nlohmann::json saved = {{"stable", manifest::object_to_json(stable.at(0).object)},
                          {"canaryRevision", "r2"},
                          {"phase", "Paused"}};
  // In ms both fit int64; in the clock's nanoseconds neither does (UBSan stops a wrap).
  saved["pauseStartedMs"] = std::numeric_limits<int64_t>::min();
  auto past = RolloutState::from_checkpoint(saved);
  EXPECT_EQ(past.pause_started->time_since_epoch().count(), 0);
  saved["pauseStartedMs"] = std::numeric_limits<int64_t>::max();
  auto future = RolloutState::from_checkpoint(saved);
  EXPECT_FALSE(has_elapsed(std::chrono::system_clock::now() - *future.pause_started, 60));
}

}  // namespace
}  // namespace duet::daemon
