// SPEC §5 step 7 with real engines: a replica killed under load costs no request, a failing
// replica is ejected, and a size pool with nothing left hands its requests to the other.

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "fake_duetd.h"
#include "router_test_names.h"
#include "support/router_process.h"
#include "support/sim_process.h"
#include "support/temp_dir.h"
#include "watch_objects.h"

namespace duet::router {
namespace {

class RouterFailover : public duet::test::RouterTest {
 protected:
  // small-0 and small-1 (with `small1_flags`) serve chat-small, large-0 chat-large.
  void start(std::vector<std::string> small1_flags = {}) {
    auto flags = [](const char* name, std::vector<std::string> extra = {}) {
      std::vector<std::string> f = {"--model", "m", "--name", name};
      f.insert(f.end(), extra.begin(), extra.end());
      return f;
    };
    small0_ = std::make_unique<SimProcess>(flags("small-0"));
    small1_ = std::make_unique<SimProcess>(flags("small-1", small1_flags));
    large0_ = std::make_unique<SimProcess>(flags("large-0"));
    auto route = test::size_route("chat", 100, "chat-small", "chat-large");
    route["spec"]["retries"] = {{"attempts", 3}};
    start_duetd(test::snapshot(
        1, json::array({route}),
        json::array({test::deployment("chat-small"), test::deployment("chat-large")}),
        json::array({test::engine("small-0", "chat-small", endpoint_of(*small0_)),
                     test::engine("small-1", "chat-small", endpoint_of(*small1_)),
                     test::engine("large-0", "chat-large", endpoint_of(*large0_))})));
    start_router("threads: 2\n");
  }

  std::unique_ptr<SimProcess> small0_, small1_, large0_;
};

TEST_F(RouterFailover, ReplicaKilledUnderLoadFailsNoRequestAndIsEjectedAtOnce) {
  start();
  constexpr int kClients = 32;
  std::atomic<bool> stop{false};
  std::atomic<int> done{0}, failed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&] {
      try {
        ProxyClient c(router_->proxy());
        while (!stop) {
          auto response = c.post("/v1/completions", completion("hello"));
          ++(response.result_int() == 200 ? done : failed);
        }
      } catch (const std::exception&) {
        ++failed;
      }
    });
  ASSERT_TRUE(duet::test::eventually([&] { return done > 300; }));
  small0_->process().kill();
  int at_kill = done;
  EXPECT_TRUE(duet::test::eventually([&] { return done > at_kill + 1000; }, 30s));
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(failed, 0);
  EXPECT_TRUE(router_->ejected("chat-small", "small-0"));
  EXPECT_FALSE(router_->ejected("chat-small", "small-1"));
  EXPECT_GE(router_->metric("duet_router_ejections_total"), 1);
  auto out = router_->process().output();
  EXPECT_NE(out.find("event=endpoint_ejected backend=chat-small/small-0"), std::string::npos);
}

TEST_F(RouterFailover, ReplicaAnswering500IsEjectedAndTrafficMovesOn) {
  start({"--fail-rate", "1.0"});
  ProxyClient c(router_->proxy());
  ASSERT_TRUE(duet::test::eventually([&] {
    c.post("/v1/completions", completion("hello"));
    return router_->ejected("chat-small", "small-1");
  }));
  for (int i = 0; i < 50; ++i) {
    auto response = c.post("/v1/completions", completion("hello"));
    ASSERT_EQ(response.result_int(), 200) << response.body();
    EXPECT_EQ(response["x-duet-replica"], "small-0");
  }
}

TEST_F(RouterFailover, WithEverySmallReplicaDeadTheLargePoolServes) {
  start();
  small0_->process().kill();
  small1_->process().kill();
  ProxyClient c(router_->proxy());
  for (int i = 0; i < 20; ++i) {
    auto response = c.post("/v1/completions", completion("hello"));
    ASSERT_EQ(response.result_int(), 200) << response.body();
    EXPECT_EQ(response["x-duet-backend"], "chat-large/large-0");
    EXPECT_EQ(response["x-duet-route"], "chat");
  }
  EXPECT_TRUE(router_->ejected("chat-small", "small-0"));  // all bad: beyond half the pool
  EXPECT_TRUE(router_->ejected("chat-small", "small-1"));
  large0_->process().kill();
  c.post("/v1/completions", completion("hello"));  // 502: large-0 refused, and is ejected
  auto none = c.post("/v1/completions", completion("hello"));
  EXPECT_EQ(none.result_int(), 503) << none.body();
  EXPECT_EQ(json::parse(none.body())["error"]["code"], 503);
}

}  // namespace
}  // namespace duet::router
