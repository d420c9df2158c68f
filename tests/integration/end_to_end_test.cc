// The walking skeleton end to end: duetd runs duet-sim engines from the demo manifests,
// duet-router watches duetd and proxies client requests to them, streams included.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "support/duetd_harness.h"

namespace duet::test {
namespace {

// The port a process logged in its `event=listening kind=KIND ... port=N` line.
uint16_t logged_port(const ChildProcess& p, const std::string& kind) {
  auto out = p.output();
  auto at = out.find("event=listening kind=" + kind);
  if (at == std::string::npos) return 0;
  auto port = out.find(" port=", at);
  return static_cast<uint16_t>(std::stoi(out.substr(port + 6)));
}

class EndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    auto applied = duetd_.duetctl({"apply", "-f", std::string(DUET_SOURCE_DIR) + "/manifests/examples/demo.yaml"});
    ASSERT_EQ(applied.exit_code, 0) << applied.out;
    ASSERT_TRUE(eventually([&] { return duetd_.ready_engines("chat-small") == 2 && duetd_.ready_engines("chat-large") == 1; }, 20s));
    router_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        bin("duet-router"), "--listen", "127.0.0.1:0", "--source", duetd_.api().to_string(), "--admin", "127.0.0.1:0", "--threads", "2"});
    ASSERT_TRUE(router_->wait_for_output("kind=proxy", 20s)) << router_->output();
    router_address_ = Address::parse("127.0.0.1:" + std::to_string(logged_port(*router_, "proxy")));
    // The router is ready once it has routes and endpoints from duetd.
    ASSERT_TRUE(eventually([&] { return post("/v1/completions", body("hi", false)).result_int() == 200; }, 20s))
        << router_->output();
  }

  static std::string body(const std::string& prompt, bool stream, int max_tokens = 5) {
    return nlohmann::json{{"model", "deepseek-r1"}, {"prompt", prompt}, {"max_tokens", max_tokens}, {"stream", stream}}.dump();
  }

  http::ClientResponse post(const std::string& target, const std::string& json) {
    try {
      return http::fetch_sync(router_address_,
                              http::make_request(http::bhttp::verb::post, target, router_address_, json, "application/json"),
                              10s);
    } catch (const std::system_error&) {
      return {};
    }
  }

  DuetdHarness duetd_;
  std::unique_ptr<ChildProcess> router_;
  Address router_address_;
};

TEST_F(EndToEnd, SmallAndLargeRequestsReachTheirPools) {
  auto small = post("/v1/completions", body("Hello duet", false));
  ASSERT_EQ(small.result_int(), 200) << small.body();
  EXPECT_TRUE(std::string(small["x-duet-replica"]).starts_with("chat-small-")) << small["x-duet-replica"];
  EXPECT_EQ(small["x-duet-route"], "chat");
  auto reply = nlohmann::json::parse(small.body());
  EXPECT_EQ(reply["usage"]["completion_tokens"], 5);

  // 9,000 ASCII bytes ≈ 2,250 tokens: over the demo's 2,048 threshold.
  auto large = post("/v1/completions", body(std::string(9000, 'a'), false));
  ASSERT_EQ(large.result_int(), 200) << large.body();
  EXPECT_EQ(large["x-duet-replica"], "chat-large-0") << router_->output();
  EXPECT_EQ(large["x-duet-backend"], "chat-large/chat-large-0");
}

TEST_F(EndToEnd, StreamedResponseArrivesChunkByChunk) {
  boost::asio::io_context io;
  std::vector<std::string> pieces;
  std::string header_replica;
  http::error_code end = boost::asio::error::would_block;
  http::StreamHandlers handlers;
  handlers.on_header = [&](const http::ClientResponseHeader& h) { header_replica = std::string(h["x-duet-replica"]); };
  handlers.on_data = [&](std::string_view d) { pieces.emplace_back(d); };
  handlers.on_end = [&](http::error_code ec) { end = ec; };
  auto request = http::make_request(http::bhttp::verb::post, "/v1/completions", router_address_,
                                    body("Hello duet", true, 20), "application/json");
  http::ClientCall::stream(io.get_executor(), router_address_, std::move(request), 10s, handlers);
  io.run_for(30s);
  ASSERT_FALSE(end) << end.message();
  EXPECT_TRUE(header_replica.starts_with("chat-small-")) << header_replica;
  std::string all;
  for (const auto& p : pieces) all += p;
  EXPECT_TRUE(all.starts_with("data: {")) << all;
  EXPECT_NE(all.find("data: [DONE]"), std::string::npos) << all;
  // 20 tokens, one every 10 ms: the client sees them as they come, not in one piece.
  EXPECT_GT(pieces.size(), 5u);
}

TEST_F(EndToEnd, UnknownPathIs404InOpenAIShape) {
  auto res = post("/v2/other", body("x", false));
  EXPECT_EQ(res.result_int(), 404);
  auto error = nlohmann::json::parse(res.body(), nullptr, false);
  EXPECT_TRUE(error.contains("error")) << res.body();
}

}  // namespace
}  // namespace duet::test
