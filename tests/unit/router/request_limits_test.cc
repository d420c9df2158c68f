// The router's own budgets, through the real duet-router binary: a refused request is
// answered on its header, before its body, and its body is never held; requests in flight,
// buffered bodies and connections over their limits get 503 with Retry-After, and the
// limits lift as requests end.

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "scripted_engine.h"
#include "support/router_process.h"
#include "watch_objects.h"

namespace duet::router {
namespace {

namespace bhttp = boost::beast::http;
using duet::test::eventually;
using test::RawClient;
using test::Script;
using test::ScriptedEngine;
using namespace std::chrono_literals;

class RequestLimits : public duet::test::RouterTest {
 protected:
  void SetUp() override {
    engine_ = std::make_unique<ScriptedEngine>(
        std::map<std::string, Script>{{"/ok", {{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}},
                                      {"/silent", {{}, false, true}}});
    using namespace router::test;
    start_duetd(snapshot(1, json::array({backend_route("all", "scripted", "/")}),
                         json::array({deployment("scripted")}),
                         json::array({engine("scripted-0", "scripted", engine_->endpoint())})));
  }

  void start_with_auth() {
    std::ofstream(dir_ / "jwt.secret") << "a-secret-of-some-length\n";
    start_router("auth: {jwt: {hmacSecretFile: " + (dir_ / "jwt.secret").string() + "}}\n");
  }

  bool engine_got(const std::string& target) {
    for (const auto& request : engine_->received())
      if (request.target == target) return true;
    return false;
  }

  static std::string post_head(std::size_t length, const std::string& target = "/ok") {
    return "POST " + target + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(length) +
           "\r\n\r\n";
  }

  std::unique_ptr<ScriptedEngine> engine_;
};

TEST_F(RequestLimits, RefusalComesOnTheHeaderWithoutWaitingForTheBodyAndCloses) {
  start_with_auth();
  RawClient client(router_->proxy().port);
  client.write(post_head(8 << 20));  // maxBodyBytes; not one byte of it is sent
  auto answer = client.read();       // 10 s at most; the body would be awaited for 60 s
  EXPECT_EQ(answer.result_int(), 401);
  EXPECT_FALSE(answer.keep_alive());
  EXPECT_TRUE(client.closed());
}

TEST_F(RequestLimits, RefusedClientsDoNotMakeTheRouterHoldTheirBodies) {
  start_with_auth();
  long before = duet::test::rss_kib(router_->process().pid());
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 16; ++i) {
    clients.push_back(std::make_unique<RawClient>(router_->proxy().port));
    clients.back()->write(post_head(8 << 20));
    clients.back()->write_repeatedly(std::string(64 * 1024, 'x'), 8 << 20);
    EXPECT_EQ(clients.back()->read().result_int(), 401);  // after the body, if it were read
  }
  long after = duet::test::rss_kib(router_->process().pid());  // with all 16 still open
  ASSERT_GT(before, 0);
  EXPECT_LT(after - before, 32 * 1024) << before << " KiB → " << after << " KiB";
}

TEST_F(RequestLimits, RefusalOfARequestWhoseBodyCameWithItKeepsTheConnection) {
  start_with_auth();
  RawClient client(router_->proxy().port);
  for (int i = 0; i < 3; ++i) {
    auto answer = client.exchange("POST", "/ok");
    EXPECT_EQ(answer.result_int(), 401);
    EXPECT_TRUE(answer.keep_alive());
  }
  EXPECT_FALSE(engine_got("/ok"));
}

TEST_F(RequestLimits, RequestsOverTheInFlightLimitGet503UntilOneEnds) {
  start_router("limits: {maxInFlightRequests: 1}\n");
  auto holder = std::make_unique<RawClient>(router_->proxy().port);
  holder->write(RawClient::request("POST", "/silent"));
  ASSERT_TRUE(eventually([&] { return engine_got("/silent"); }));
  RawClient client(router_->proxy().port);
  auto answer = client.exchange("POST", "/ok");
  EXPECT_EQ(answer.result_int(), 503);
  EXPECT_EQ(answer[bhttp::field::retry_after], "1");
  EXPECT_NE(answer.body().find("limits.maxInFlightRequests"), std::string::npos);
  EXPECT_FALSE(engine_got("/ok"));
  holder.reset();  // the client goes away: its request ends
  EXPECT_TRUE(eventually([&] { return client.exchange("POST", "/ok").result_int() == 200; }));
}

// A keep-alive connection holds its slot and its body's room only while a request runs.
TEST_F(RequestLimits, EachRequestOfAKeepAliveConnectionGivesItsBudgetBack) {
  start_router("limits: {maxInFlightRequests: 1, maxBodyBytes: 100000, maxBufferedBodyBytes: 100000}\n");
  RawClient client(router_->proxy().port);
  for (int i = 0; i < 5; ++i) {
    client.write(post_head(60000) + std::string(60000, ' '));
    auto answer = client.read();
    ASSERT_EQ(answer.result_int(), 200) << "request " << i << ": " << answer.body();
    ASSERT_TRUE(answer.keep_alive());
  }
  // The last response's bytes can reach the client before the router's write completes and
  // gives the budget back: on a busy machine that takes a moment, so both are awaited.
  EXPECT_TRUE(eventually([&] { return router_->metric("duet_router_buffered_body_bytes") == 0; }));
  EXPECT_TRUE(eventually([&] {  // while the first is still open
    RawClient other(router_->proxy().port);
    other.write(post_head(60000) + std::string(60000, ' '));
    return other.read().result_int() == 200;
  }));
}

// A plain connection waiting for a request holds no read buffer: it waits for readability
// and reads what came (bench scenario 16). What it sends after a pause, a whole request or
// the rest of a header that stopped half way, is read as before.
TEST_F(RequestLimits, AConnectionIdleBetweenRequestsOrInAHeaderIsServedWhenItGoesOn) {
  start_router("");
  RawClient client(router_->proxy().port);
  for (int i = 0; i < 3; ++i) {
    // Idle time itself is what is tested here, not a wait for something to happen.
    std::this_thread::sleep_for(300ms);
    client.write(post_head(2) + "{}");
    auto answer = client.read();
    ASSERT_EQ(answer.result_int(), 200) << "request " << i << ": " << answer.body();
    ASSERT_TRUE(answer.keep_alive());
  }
  std::string request = post_head(2) + "{}";
  client.write(request.substr(0, 20));
  std::this_thread::sleep_for(300ms);
  client.write(request.substr(20));
  EXPECT_EQ(client.read().result_int(), 200);
}

// After a reply of the router's own (no relay, so no watch of the client), an idle plain
// connection waits for its next request by readiness too, and is served when it comes.
TEST_F(RequestLimits, AConnectionIdleAfterALocalReplyIsServedWhenItGoesOn) {
  start_with_auth();
  RawClient client(router_->proxy().port);
  for (int i = 0; i < 3; ++i) {
    client.write(post_head(2) + "{}");
    auto answer = client.read();
    ASSERT_EQ(answer.result_int(), 401) << "request " << i << ": " << answer.body();
    ASSERT_TRUE(answer.keep_alive());
    std::this_thread::sleep_for(300ms);  // idle time itself is what is tested here
  }
}

TEST_F(RequestLimits, BodiesOverTheBufferedBudgetGet503UntilOneEnds) {
  start_router("limits: {maxBodyBytes: 100000, maxBufferedBodyBytes: 150000}\n");
  auto holder = std::make_unique<RawClient>(router_->proxy().port);
  holder->write(post_head(100000) + "{");  // holds 100000 of the budget while it uploads
  // Once its header is read: a probe that came first would take the room instead.
  ASSERT_TRUE(eventually(
      [&] { return router_->metric("duet_router_buffered_body_bytes") == 100000; }));
  auto status_of = [&](const std::string& request) {
    RawClient client(router_->proxy().port);
    client.write(request);
    return client.read().result_int();
  };
  std::string over = post_head(60000) + std::string(60000, ' ');
  EXPECT_EQ(status_of(over), 503);
  EXPECT_EQ(status_of(post_head(40000) + std::string(40000, ' ')), 200);  // fits
  // A chunked body takes room as it comes; this one finds none.
  std::string chunked = "POST /ok HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                        std::string("400\r\n") + std::string(1024, ' ') + "\r\n0\r\n\r\n";
  RawClient client(router_->proxy().port);
  client.write(chunked);
  auto answer = client.read();
  EXPECT_EQ(answer.result_int(), 503);
  EXPECT_EQ(answer[bhttp::field::retry_after], "1");
  EXPECT_NE(answer.body().find("limits.maxBufferedBodyBytes"), std::string::npos);
  EXPECT_TRUE(client.closed());
  holder.reset();
  EXPECT_TRUE(eventually([&] { return router_->metric("duet_router_buffered_body_bytes") == 0; }));
  EXPECT_EQ(status_of(over), 200);
  EXPECT_EQ(status_of(chunked), 200);
}

TEST_F(RequestLimits, ConnectionsOverTheLimitGet503BeforeTheClose) {
  start_router("limits: {maxConnections: 2}\n");
  auto first = std::make_unique<RawClient>(router_->proxy().port);
  RawClient second(router_->proxy().port);
  EXPECT_EQ(first->exchange("POST", "/ok").result_int(), 200);  // both are open sessions
  EXPECT_EQ(second.exchange("POST", "/ok").result_int(), 200);
  RawClient third(router_->proxy().port);
  auto answer = third.read();  // sent at once, before any request
  EXPECT_EQ(answer.result_int(), 503);
  EXPECT_EQ(answer[bhttp::field::retry_after], "1");
  EXPECT_NE(answer.body().find("limits.maxConnections"), std::string::npos);
  EXPECT_TRUE(third.closed());
  first.reset();
  EXPECT_TRUE(eventually([&] {
    RawClient next(router_->proxy().port);
    next.write(RawClient::request("POST", "/ok"));
    return next.read().result_int() == 200;
  }));
}

}  // namespace
}  // namespace duet::router
