// SourceWatcher against a fake duetd in this process: snapshot, changes, reconnect after a
// dead stream, the last known state kept while the duetd is away, and kept over a duetd
// that lost its state.

#include "router/source_watcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <thread>

#include "fake_duetd.h"
#include "watcher_harness.h"
#include "support/child_process.h"
#include "support/temp_dir.h"
#include "watch_objects.h"

namespace duet::router {
namespace {

using test::json;
using namespace std::chrono_literals;

json one_engine_snapshot(bool ready, uint64_t version = 1, const std::string& epoch = "") {
  return test::snapshot(version, json::array({test::backend_route("r", "d")}),
                        json::array({test::deployment("d")}),
                        json::array({test::engine("d-0", "d", "127.0.0.1:1", ready)}), epoch);
}

WatchTiming fast_timing() {
  WatchTiming t;
  t.backoff_min = 10ms;
  t.backoff_max = 50ms;
  t.dead_after = 300ms;
  return t;
}

TEST(SourceWatcher, AppliesSnapshotThenChanges) {
  duet::test::TempDir dir;
  test::FakeDuetd duetd((dir / "d.sock").string(), one_engine_snapshot(true));
  WatcherHarness harness(duetd.address(), fast_timing());
  ASSERT_TRUE(duet::test::eventually([&] { return harness.synced(); }));
  EXPECT_TRUE(harness.ready_engine());
  duetd.push(test::change("MODIFIED", "Engine", 2, test::engine("d-0", "d", "127.0.0.1:1", false)));
  EXPECT_TRUE(duet::test::eventually([&] { return !harness.ready_engine(); }));
  EXPECT_GE(harness.changes(), 2);
}

TEST(SourceWatcher, ReconnectsWhenTheStreamGoesQuiet) {
  duet::test::TempDir dir;
  test::FakeDuetd duetd((dir / "d.sock").string(), one_engine_snapshot(true));
  WatcherHarness harness(duetd.address(), fast_timing());
  ASSERT_TRUE(duet::test::eventually([&] { return harness.synced(); }));
  // No BOOKMARK comes from the fake: after dead_after the watcher must open a new stream.
  EXPECT_TRUE(duet::test::eventually([&] { return duetd.watches() >= 2; }, 5s));
}

TEST(SourceWatcher, AReconnectAsksToResumeUnlessALineCouldNotBeApplied) {
  duet::test::TempDir dir;
  test::FakeDuetd duetd((dir / "d.sock").string(), one_engine_snapshot(true, 7, "ab12"));
  WatcherHarness harness(duetd.address(), fast_timing());
  ASSERT_TRUE(duet::test::eventually([&] { return duetd.watches() >= 2; }, 5s));
  EXPECT_EQ(duetd.last_target(), "/apis/v1/watch?resourceVersion=7&stateEpoch=ab12");
  // The fake answers a resume with a snapshot: the watcher takes it as a re-list.
  // The second snapshot is read a moment after the fake served it.
  EXPECT_TRUE(duet::test::eventually([&] { return harness.status()["snapshots"].get<int>() >= 2; }));
  EXPECT_EQ(harness.status()["resumes"], 0);

  // No quiet reconnects here: the one after the bad line is the only other connection.
  test::FakeDuetd other((dir / "e.sock").string(), one_engine_snapshot(true, 7, "ab12"));
  WatcherHarness patient(other.address(), WatchTiming{.backoff_min = 10ms, .backoff_max = 50ms,
                                                      .dead_after = 60s, .header_timeout = 5s});
  ASSERT_TRUE(duet::test::eventually([&] { return patient.synced(); }));
  other.push(json{{"type", 1}});
  ASSERT_TRUE(duet::test::eventually([&] { return other.watches() == 2; }, 5s));
  // Resuming after the line that failed would only send it again: a snapshot is asked for.
  EXPECT_EQ(other.last_target(), "/apis/v1/watch");
}

TEST(SourceWatcher, KeepsTheLastStateUntilANewSnapshotReplacesIt) {
  duet::test::TempDir dir;
  const std::string socket = (dir / "d.sock").string();
  auto duetd = std::make_unique<test::FakeDuetd>(socket, one_engine_snapshot(true));
  WatcherHarness harness(duetd->address(), fast_timing());
  ASSERT_TRUE(duet::test::eventually([&] { return harness.synced(); }));
  duetd.reset();  // duetd goes down
  ASSERT_TRUE(duet::test::eventually([&] { return !harness.connected(); }));
  EXPECT_TRUE(harness.synced());
  EXPECT_TRUE(harness.ready_engine());  // static stability: still routable
  // It comes back with a different world; the watcher reconnects and takes it.
  duetd = std::make_unique<test::FakeDuetd>(socket, one_engine_snapshot(false));
  EXPECT_TRUE(duet::test::eventually([&] { return !harness.ready_engine(); }, 5s));
}

// A line the watcher cannot apply: it drops the connection, comes back, and keeps its state.
void expect_line_drops_the_connection(const json& line) {
  duet::test::TempDir dir;
  test::FakeDuetd duetd((dir / "d.sock").string(), one_engine_snapshot(true));
  WatcherHarness harness(
      duetd.address(),
      WatchTiming{
          .backoff_min = 10ms, .backoff_max = 50ms, .dead_after = 60s, .header_timeout = 5s});
  ASSERT_TRUE(duet::test::eventually([&] { return harness.synced(); }));
  duetd.push(line);
  EXPECT_TRUE(duet::test::eventually([&] { return duetd.watches() >= 2; }));
  EXPECT_TRUE(duet::test::eventually([&] { return harness.connected(); }));
  EXPECT_TRUE(harness.ready_engine());
}

TEST(SourceWatcher, NonJsonLineDropsTheConnection) { expect_line_drops_the_connection("this is not an event"); }

// Reading {"type":1} threw outside on_line's try, on the control thread (issue 15).
TEST(SourceWatcher, AFieldOfTheWrongTypeDropsTheConnection) { expect_line_drops_the_connection(json{{"type", 1}}); }

TEST(SourceWatcher, ALineThatNeverEndsDropsTheConnection) {
  duet::test::TempDir dir;
  test::FakeDuetd duetd((dir / "d.sock").string(), one_engine_snapshot(true));
  WatcherHarness harness(duetd.address(), WatchTiming{.backoff_min = 10ms,
                                                      .backoff_max = 50ms,
                                                      .dead_after = 60s,
                                                      .header_timeout = 5s,
                                                      .max_line_bytes = 1024 * 1024});
  ASSERT_TRUE(duet::test::eventually([&] { return harness.synced(); }));
  duetd.push_raw(R"({"type":")");
  std::string piece(64 * 1024, 'a');
  for (int i = 0; i < 17 && duetd.watches() < 2; ++i) duetd.push_raw(piece);  // past 1 MiB
  EXPECT_TRUE(duet::test::eventually([&] { return duetd.watches() >= 2; }));
  EXPECT_TRUE(duet::test::eventually([&] { return harness.connected(); }));
  EXPECT_TRUE(harness.ready_engine());
}

// A watcher synced with duetd state "a" at resourceVersion 7 (d-0 Ready); then that duetd
// goes down and comes back serving another snapshot.
class DuetdComesBack : public ::testing::Test {
 protected:
  void SetUp() override {
    duetd_ = std::make_unique<test::FakeDuetd>(socket(), one_engine_snapshot(true, 7, "a"));
    harness_ = std::make_unique<WatcherHarness>(duetd_->address(), fast_timing());
    ASSERT_TRUE(duet::test::eventually([&] { return harness_->synced(); }));
  }
  void comes_back_with(json snapshot) {
    duetd_.reset();
    ASSERT_TRUE(duet::test::eventually([&] { return !harness_->connected(); }));
    duetd_ = std::make_unique<test::FakeDuetd>(socket(), std::move(snapshot));
  }
  std::string socket() const { return (dir_ / "d.sock").string(); }

  duet::test::TempDir dir_;
  std::unique_ptr<test::FakeDuetd> duetd_;
  std::unique_ptr<WatcherHarness> harness_;
};

// duetd came back empty with a new stateEpoch (its checkpoint was lost): the engines it
// started still run, so the routes to them stay until the new state has something to route.
TEST_F(DuetdComesBack, WithoutItsStateTheLastStateIsKept) {
  ASSERT_NO_FATAL_FAILURE(comes_back_with(test::empty_snapshot(0, "b")));
  ASSERT_TRUE(duet::test::eventually([&] { return harness_->stale(); }, 5s)) << harness_->status();
  EXPECT_TRUE(harness_->ready_engine());
  auto status = harness_->status();
  EXPECT_EQ(status["stateEpoch"], "a");
  EXPECT_EQ(status["resourceVersion"], 7);
  EXPECT_EQ(status["servingLastKnownState"], true);
  EXPECT_NE(status["reason"].get<std::string>().find("duetd lost its state (stateEpoch a -> b"),
            std::string::npos)
      << status;
  // The operator applies the manifests again: once a Route and its deployment are back, the
  // new state replaces the old one.
  duetd_->push(test::change("ADDED", "Route", 1, test::backend_route("r", "d")));
  duetd_->push(test::change("ADDED", "EngineDeployment", 2, test::deployment("d")));
  duetd_->push(test::change("ADDED", "Engine", 3, test::engine("d-0", "d", "127.0.0.1:2", false)));
  EXPECT_TRUE(duet::test::eventually([&] { return harness_->status()["stateEpoch"] == "b"; }));
  status = harness_->status();
  EXPECT_EQ(status["stale"], false) << status;
  EXPECT_FALSE(status.contains("reason"));
  EXPECT_TRUE(duet::test::eventually([&] { return !harness_->ready_engine(); }));
}

TEST_F(DuetdComesBack, WithAnOlderResourceVersionTheLastStateIsKept) {
  ASSERT_NO_FATAL_FAILURE(comes_back_with(one_engine_snapshot(false, 5, "a")));
  ASSERT_TRUE(duet::test::eventually([&] { return harness_->stale(); }, 5s)) << harness_->status();
  EXPECT_TRUE(harness_->ready_engine());
  EXPECT_EQ(harness_->status()["reason"],
            "duetd went back to an older state (resourceVersion 7 -> 5 in stateEpoch a); keeping "
            "the last routes");
  // Past the resourceVersion the router had seen, the stream is newer: it is taken.
  duetd_->push(
      test::change("MODIFIED", "Engine", 8, test::engine("d-0", "d", "127.0.0.1:1", false)));
  EXPECT_TRUE(duet::test::eventually([&] { return !harness_->ready_engine(); }));
  EXPECT_EQ(harness_->status()["stale"], false);
  EXPECT_EQ(harness_->status()["resourceVersion"], 8);
}

}  // namespace
}  // namespace duet::router
