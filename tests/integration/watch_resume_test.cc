// duet-router's watch of a real duetd resumes where it left off (docs/node-api.md,
// "Resuming"): a reconnect asks for the changes after the last resourceVersion in its
// epoch and gets them without a snapshot; after a duetd restart, whose change log is gone,
// it gets a snapshot again.

#include <gtest/gtest.h>

#include <csignal>

#include "support/duetd_harness.h"
#include "watcher_harness.h"

namespace duet::test {
namespace {

using namespace std::chrono_literals;

TEST(WatchResume, AReconnectGetsOnlyTheMissedChangesAndADuetdRestartASnapshot) {
  DuetdHarness d;
  ASSERT_EQ(d.duetctl({"apply", "-f", d.write("a.yaml", sim_deployment_yaml("first", 0))}).exit_code, 0);
  router::WatchTiming timing;
  timing.backoff_min = 10ms;
  timing.backoff_max = 50ms;
  // duetd says something (a BOOKMARK) every 5 s: waiting less, the watcher reconnects on
  // every quiet spell, which is what is tested here.
  timing.dead_after = 400ms;
  router::WatcherHarness watcher("unix:" + d.api().path, timing);
  ASSERT_TRUE(eventually([&] { return watcher.knows_deployment("first"); }, 10s));
  ASSERT_TRUE(eventually([&] { return watcher.status()["resumes"].get<int>() >= 2; }, 10s))
      << watcher.status().dump();
  EXPECT_EQ(watcher.status()["snapshots"], 1) << "a reconnect re-listed: " << watcher.status().dump();
  // Changes made while connected or between two connections arrive all the same.
  for (const char* name : {"second", "third"}) {
    ASSERT_EQ(d.duetctl({"apply", "-f", d.write("b.yaml", sim_deployment_yaml(name, 0))}).exit_code, 0);
    EXPECT_TRUE(eventually([&] { return watcher.knows_deployment(name); }, 10s)) << name;
  }
  EXPECT_EQ(watcher.status()["snapshots"], 1) << watcher.status().dump();

  d.restart(SIGTERM);
  EXPECT_TRUE(eventually([&] { return watcher.status()["snapshots"] == 2; }, 10s)) << watcher.status().dump();
  EXPECT_TRUE(watcher.knows_deployment("third"));
}

}  // namespace
}  // namespace duet::test
