// WatchHub in process (daemon/watch_hub.h): a watch stream over a real http::Server on a
// unix socket, on one io_context with the client: snapshot then changes in order, resuming
// within the history and epoch, a snapshot otherwise, and resourceVersions reserved in the
// checkpoint before they are handed out.
#include "daemon/watch_hub.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "duet/api/watch_event.h"
#include "duet/common/http_client.h"
#include "duet/common/line_splitter.h"
#include "support/temp_dir.h"

namespace duet::daemon {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class WatchHubTest : public ::testing::Test {
 protected:
  WatchHubTest() {
    hub_.set_node_name("node-a");
    hub_.set_snapshot_source([](json& s) { s["engines"] = json::array(); });
    server_.listen(address_);
  }
  ~WatchHubTest() override { server_.stop(); }

  // Opens a watch (resuming from `since` in `epoch` when given) and runs the loop until it
  // has `count` lines or 5 s have passed; the stream stays open for later lines.
  std::vector<json>& watch(std::optional<uint64_t> since = {}, std::string epoch = {}, std::size_t count = 1) {
    since_ = since;
    epoch_ = std::move(epoch);
    if (call_) call_->cancel();  // the earlier watch's lines stop here
    lines_ = std::make_shared<std::vector<json>>();
    http::StreamHandlers handlers;
    handlers.on_data = [lines = lines_, splitter = std::make_shared<LineSplitter>()](std::string_view piece) {
      for (const auto& line : splitter->feed(piece)) lines->push_back(json::parse(line));
    };
    call_ = http::ClientCall::stream(io_.get_executor(), address_,
                                     http::make_request(http::bhttp::verb::get, "/watch", address_), 5s,
                                     std::move(handlers));
    run_until(count);
    return *lines_;
  }
  void run_until(std::size_t count) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (lines_->size() < count && std::chrono::steady_clock::now() < deadline) io_.run_for(10ms);
  }
  uint64_t publish(const std::string& name) {
    return hub_.publish(api::WatchEventType::added, api::kRouteKind, {{"metadata", {{"name", name}}}});
  }

  test::TempDir dir_;
  Address address_ = Address::parse("unix:" + (dir_ / "hub.sock").string());
  boost::asio::io_context io_;
  WatchHub hub_{io_};
  std::optional<uint64_t> since_;
  std::string epoch_;
  http::Server server_{io_, [this](std::shared_ptr<http::Exchange> e) { hub_.subscribe(e, since_, epoch_); }};
  std::shared_ptr<http::ClientCall> call_;
  std::shared_ptr<std::vector<json>> lines_;  // the latest watch's
};

TEST_F(WatchHubTest, AWatcherGetsTheSnapshotThenEveryChangeInOrder) {
  publish("a");
  auto& lines = watch();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["type"], "SNAPSHOT");
  EXPECT_EQ(lines[0]["resourceVersion"], 1);
  EXPECT_EQ(lines[0]["stateEpoch"], hub_.state_epoch());
  EXPECT_EQ(lines[0]["node"], "node-a");
  EXPECT_TRUE(lines[0]["engines"].is_array());
  publish("b");
  publish("c");
  run_until(3);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1]["resourceVersion"], 2);
  EXPECT_EQ(lines[2]["object"]["metadata"]["name"], "c");
}

TEST_F(WatchHubTest, AResumeWithinTheHistoryAndEpochGetsOnlyWhatWasMissed) {
  for (const char* name : {"a", "b", "c", "d"}) publish(name);
  auto& resumed = watch(2, hub_.state_epoch(), 3);
  ASSERT_EQ(resumed.size(), 3u);
  EXPECT_EQ(resumed[0], (json{{"type", "BOOKMARK"}, {"resourceVersion", 2}, {"stateEpoch", hub_.state_epoch()}}));
  EXPECT_EQ(resumed[1]["resourceVersion"], 3);
  EXPECT_EQ(resumed[2]["resourceVersion"], 4);
  // Up to date: the bookmark alone.
  EXPECT_EQ(watch(4, hub_.state_epoch())[0]["type"], "BOOKMARK");
}

TEST_F(WatchHubTest, AnotherEpochAVersionFromTheFutureOrOnePastTheHistoryGetASnapshot) {
  publish("a");
  EXPECT_EQ(watch(1, "0123456789abcdef")[0]["type"], "SNAPSHOT");
  EXPECT_EQ(watch(7, hub_.state_epoch())[0]["type"], "SNAPSHOT");  // a duetd restarted since
  for (int i = 0; i < 10'001; ++i) publish("r" + std::to_string(i));  // the history keeps 10,000
  EXPECT_EQ(watch(1, hub_.state_epoch())[0]["type"], "SNAPSHOT");
  EXPECT_EQ(watch(hub_.resource_version() - 100, hub_.state_epoch())[0]["type"], "BOOKMARK");
}

TEST_F(WatchHubTest, VersionsAreReservedInTheCheckpointBeforeTheyAreHandedOut) {
  std::vector<uint64_t> reserved_at;
  hub_.set_persist([&] { reserved_at.push_back(hub_.checkpoint_json()["reservedVersion"]); });
  publish("a");
  ASSERT_EQ(reserved_at.size(), 1u);
  EXPECT_GE(reserved_at[0], 1u);
  for (uint64_t v = 2; v <= reserved_at[0]; ++v) publish("x");
  EXPECT_EQ(reserved_at.size(), 1u) << "one write per reservation";
  publish("past");
  ASSERT_EQ(reserved_at.size(), 2u);
  EXPECT_GT(reserved_at[1], reserved_at[0]);

  // A restart continues past the reservation, in the same epoch.
  boost::asio::io_context other;
  WatchHub restarted(other);
  restarted.restore(3, hub_.checkpoint_json());
  EXPECT_EQ(restarted.state_epoch(), hub_.state_epoch());
  EXPECT_EQ(restarted.resource_version(), reserved_at[1]);
}

}  // namespace
}  // namespace duet::daemon
