// SourceWatcher against a fake duetd in this process: snapshot, changes, reconnect after a
// dead stream, and the last known state kept while the duetd is away.

#include "router/source_watcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <thread>

#include "fake_duetd.h"
#include "support/child_process.h"
#include "support/temp_dir.h"
#include "watch_objects.h"

namespace duet::router {
namespace {

using test::json;
using namespace std::chrono_literals;

json one_engine_snapshot(bool ready) {
  return test::snapshot(1, json::array({test::backend_route("r", "d")}),
                        json::array({test::deployment("d")}),
                        json::array({test::engine("d-0", "d", "127.0.0.1:1", ready)}));
}

// Runs a watcher on its own control thread; the test reads its state through run_on().
class WatcherHarness {
 public:
  WatcherHarness(const std::string& source, WatchTiming timing)
      : work_(io_.get_executor()),
        watcher_(std::make_shared<SourceWatcher>(
            io_, parse_source(source, "test"), [this] { ++changes_; }, timing)) {
    boost::asio::post(io_, [this] { watcher_->start(); });
    thread_ = std::thread([this] { io_.run(); });
  }
  template <class F>
  auto run_on(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

  ~WatcherHarness() {
    run_on([this] { watcher_->stop(); });
    work_.reset();
    thread_.join();
  }
  bool ready_engine() {
    return run_on([this] {
      const auto& engines = watcher_->state().engines();
      return engines.count("d-0") && engines.at("d-0").ready;
    });
  }
  bool synced() {
    return run_on([this] { return watcher_->state().synced(); });
  }
  bool connected() {
    return run_on([this] { return watcher_->connected(); });
  }
  int changes() const { return changes_.load(); }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::atomic<int> changes_{0};
  std::shared_ptr<SourceWatcher> watcher_;
  std::thread thread_;
};

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

TEST(SourceWatcher, NonJsonLineDropsTheConnection) {
  duet::test::TempDir dir;
  test::FakeDuetd duetd((dir / "d.sock").string(), one_engine_snapshot(true));
  WatcherHarness harness(
      duetd.address(),
      WatchTiming{
          .backoff_min = 10ms, .backoff_max = 50ms, .dead_after = 60s, .header_timeout = 5s});
  ASSERT_TRUE(duet::test::eventually([&] { return harness.synced(); }));
  duetd.push("this is not an event");
  EXPECT_TRUE(duet::test::eventually([&] { return duetd.watches() >= 2; }));
  EXPECT_TRUE(harness.ready_engine());
}

}  // namespace
}  // namespace duet::router
