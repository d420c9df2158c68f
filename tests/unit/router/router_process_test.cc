// The real duet-router binary between real duet-sim engines and a fake duetd (the watch
// stream only), all on loopback with ephemeral ports. Every wait has a deadline and polls
// a condition; nothing sleeps to synchronise.

#include "support/router_process.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "duet/common/http_client.h"
#include "fake_duetd.h"
#include "router_test_names.h"
#include "support/child_process.h"
#include "support/fake_notify_socket.h"
#include "support/sim_process.h"
#include "support/temp_dir.h"
#include "watch_objects.h"

namespace duet::router {
namespace {

using duet::test::ChildProcess;
using duet::test::StreamClient;
namespace bhttp = http::bhttp;

constexpr uint64_t kThreshold = 100;

class RouterWithEngines : public duet::test::RouterTest {
 protected:
  void SetUp() override {
    // --tpot-ms 100: a one-token answer is immediate, a five-token stream takes 400 ms.
    for (const char* name : {"small-0", "small-1", "large-0"})
      sims_.push_back(std::make_unique<SimProcess>(
          std::vector<std::string>{"--model", "m", "--name", name, "--tpot-ms", "100"}));
    sims_.push_back(std::make_unique<SimProcess>(
        std::vector<std::string>{"--model", "special-model", "--name", "special-0"}));
    start_duetd(snapshot());
    // The file's listener is replaced by --listen.
    start_router("listen: [{address: '127.0.0.1:1'}]\nlimits: {maxBodyBytes: 65536}\n");
  }

  json engines(bool small0_ready = true) {
    return json::array({test::engine("small-0", "chat-small", endpoint_of(*sims_[0]), small0_ready),
                        test::engine("small-1", "chat-small", endpoint_of(*sims_[1])),
                        test::engine("large-0", "chat-large", endpoint_of(*sims_[2])),
                        test::engine("special-0", "special", endpoint_of(*sims_[3]))});
  }

  json snapshot() {
    return test::snapshot(
        1,
        json::array({test::size_route("chat", kThreshold, "chat-small", "chat-large"),
                     test::backend_route("special", "special", "/v1/", "special-model")}),
        json::array({test::deployment("chat-small"), test::deployment("chat-large"),
                     test::deployment("special")}),
        engines());
  }

  SimProcess& small0() { return *sims_[0]; }
  SimProcess& large0() { return *sims_[2]; }

  std::vector<std::unique_ptr<SimProcess>> sims_;
};

TEST_F(RouterWithEngines, ShortPromptsGoSmallLongPromptsGoLarge) {
  auto small = router_->post("/v1/completions", completion("hello"));
  ASSERT_EQ(small.result_int(), 200) << small.body();
  EXPECT_EQ(small["x-duet-route"], "chat");
  EXPECT_EQ(small["x-duet-version"], "stable");
  std::string replica(small["x-duet-replica"]);
  EXPECT_TRUE(replica == "small-0" || replica == "small-1") << replica;
  EXPECT_EQ(small["x-duet-backend"], "chat-small/" + replica);
  EXPECT_TRUE(json::parse(small.body()).contains("choices"));

  auto large = router_->post("/v1/completions", completion(std::string(4 * kThreshold, 'x')));
  ASSERT_EQ(large.result_int(), 200) << large.body();
  EXPECT_EQ(large["x-duet-replica"], "large-0");
  EXPECT_EQ(large["x-duet-backend"], "chat-large/large-0");
}

TEST_F(RouterWithEngines, ModelRouteWinsAndModelsAreListed) {
  auto response = router_->post("/v1/completions", completion("hi", 1, false, "special-model"));
  ASSERT_EQ(response.result_int(), 200) << response.body();
  EXPECT_EQ(response["x-duet-route"], "special");
  EXPECT_EQ(response["x-duet-replica"], "special-0");
  EXPECT_EQ(response["x-duet-backend"], "special/special-0");
  auto models = json::parse(router_->get("/v1/models").body());
  EXPECT_EQ(models["object"], "list");
  ASSERT_EQ(models["data"].size(), 1u);
  EXPECT_EQ(models["data"][0]["id"], "special-model");
}

TEST_F(RouterWithEngines, StreamArrivesChunkByChunk) {
  StreamClient client;
  auto body = json({{"model", "m"},
                    {"messages", {{{"role", "user"}, {"content", "hi"}}}},
                    {"max_tokens", 5},
                    {"stream", true}})
                  .dump();
  auto stream = client.open(router_->proxy(), "/v1/chat/completions", body);
  ASSERT_TRUE(duet::test::eventually([&] { return stream->ended(); }));
  EXPECT_FALSE(stream->error()) << stream->error().message();
  EXPECT_EQ(stream->header(":status"), "200");
  EXPECT_EQ(stream->header("x-duet-route"), "chat");
  EXPECT_NE(stream->header("x-duet-backend").find("chat-small/"), std::string::npos);
  std::vector<duet::test::StreamRecord::Clock::time_point> data_at;
  for (const auto& piece : stream->pieces())
    if (piece.data.find("data:") != std::string::npos) data_at.push_back(piece.at);
  ASSERT_GE(data_at.size(), 3u) << stream->body();
  // The engine spaces its 5 tokens 100 ms apart: a relay that buffered would deliver them
  // together at the end.
  EXPECT_GE(data_at.back() - data_at.front(), 250ms);
  EXPECT_NE(stream->body().find("data: [DONE]"), std::string::npos);
}

TEST_F(RouterWithEngines, FirstChunkArrivesWhileTheEngineIsStillGenerating) {
  StreamClient client;
  // The large pool: 10 tokens 100 ms apart, about a second of generation.
  auto stream = client.open(router_->proxy(), "/v1/completions",
                            completion(std::string(4 * kThreshold, 'x'), 10, true));
  ASSERT_TRUE(duet::test::eventually([&] {
    for (const auto& piece : stream->pieces())
      if (piece.data.find("data:") != std::string::npos) return true;
    return false;
  }));
  EXPECT_FALSE(stream->ended());
  EXPECT_EQ(large0().metric("vllm:num_requests_running", "m"), 1);  // its last token is to come
  ASSERT_TRUE(duet::test::eventually([&] { return stream->ended(); }));
  EXPECT_NE(stream->body().find("data: [DONE]"), std::string::npos);
}

TEST_F(RouterWithEngines, NoRouteIs404InTheOpenAIShape) {
  auto response = router_->post("/v2/completions", completion("hi"));
  EXPECT_EQ(response.result_int(), 404);
  auto error = json::parse(response.body())["error"];
  EXPECT_EQ(error["type"], "not_found_error");
  EXPECT_EQ(error["code"], 404);
}

TEST_F(RouterWithEngines, OversizedBodyIs413AndOversizedHeaderIs431) {
  auto big = router_->post("/v1/completions", completion(std::string(100'000, 'x')));
  EXPECT_EQ(big.result_int(), 413);
  EXPECT_EQ(json::parse(big.body())["error"]["code"], 413);
  auto fat =
      router_->post("/v1/completions", completion("hi"), {{"x-padding", std::string(20'000, 'p')}});
  EXPECT_EQ(fat.result_int(), 431);
}

TEST_F(RouterWithEngines, EngineMarkedNotReadyGetsNoMoreRequests) {
  duetd_->push(test::change("MODIFIED", "Engine", 2,
                            test::engine("small-0", "chat-small", endpoint_of(small0()), false)));
  ASSERT_TRUE(duet::test::eventually(
      [&] { return router_->endpoints("chat-small") == std::vector<std::string>{"small-1"}; }));
  for (int i = 0; i < 20; ++i) {
    auto response = router_->post("/v1/completions", completion("hello"));
    ASSERT_EQ(response.result_int(), 200);
    EXPECT_EQ(response["x-duet-replica"], "small-1");
  }
}

TEST_F(RouterWithEngines, KilledEngineFailsOverToAnother) {
  small0().process().kill();
  for (int i = 0; i < 20; ++i) {
    auto response = router_->post("/v1/completions", completion("hello"));
    ASSERT_EQ(response.result_int(), 200) << response.body();
    EXPECT_EQ(response["x-duet-replica"], "small-1");
  }
}

TEST_F(RouterWithEngines, OneClientConnectionCarriesManyRequests) {
  ProxyClient client(router_->proxy());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client.post("/v1/completions", completion("hello")).result_int(), 200);
    EXPECT_EQ(client.post("/v2/nothing", completion("hello")).result_int(), 404);
    auto streamed = client.post("/v1/completions", completion("hello", 2, true));
    EXPECT_EQ(streamed.result_int(), 200);
    EXPECT_NE(streamed.body().find("data: [DONE]"), std::string::npos);
  }
}

TEST_F(RouterWithEngines, KeepsServingWhileDuetdIsDownAndTakesItsNewStateBack) {
  duetd_->stop();
  ASSERT_TRUE(duet::test::eventually([&] {
    return json::parse(router_->admin("/readyz").body())["sources"][0]["connected"] == false;
  }));
  auto response = router_->post("/v1/completions", completion("hello"));
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_TRUE(router_->ready());  // it had its snapshot: the last known state still routes
  EXPECT_EQ(router_->endpoints("chat-small"), (std::vector<std::string>{"small-0", "small-1"}));

  // duetd comes back (same socket) and small-0 is no longer Ready there.
  json changed = snapshot();
  changed["engines"] = engines(false);
  duetd_.reset();
  start_duetd(changed);
  EXPECT_TRUE(duet::test::eventually(
      [&] { return router_->endpoints("chat-small") == std::vector<std::string>{"small-1"}; }));
}

// A watch line whose type is a number threw on the control thread, outside any catch: the
// router stopped (issue 15). It is a bad line: that stream is dropped, the router watches
// again and goes on routing.
TEST_F(RouterWithEngines, AWatchLineOfTheWrongTypeDropsTheStreamNotTheRouter) {
  int watches = duetd_->watches();
  duetd_->push(json{{"type", 1}});
  ASSERT_TRUE(duet::test::eventually([&] { return duetd_->watches() > watches; }));
  ASSERT_TRUE(router_->process().running());
  auto response = router_->post("/v1/completions", completion("hello"));
  EXPECT_EQ(response.result_int(), 200) << response.body();
  // The new stream's changes still apply.
  duetd_->push(test::change("MODIFIED", "Engine", 2,
                            test::engine("small-0", "chat-small", endpoint_of(small0()), false)));
  EXPECT_TRUE(duet::test::eventually(
      [&] { return router_->endpoints("chat-small") == std::vector<std::string>{"small-1"}; }));
}

TEST_F(RouterWithEngines, SigtermLetsTheStreamInProgressFinish) {
  StreamClient client;
  auto stream = client.open(router_->proxy(), "/v1/completions", completion("hello", 20, true));
  ASSERT_TRUE(duet::test::eventually([&] { return !stream->pieces().empty(); }));
  router_->process().signal(SIGTERM);
  // Not ready from the start of the drain (a load balancer in front stops sending), while
  // the 2 s stream goes on.
  EXPECT_TRUE(duet::test::eventually([&] { return router_->admin("/readyz").result_int() == 503; }, 1s));
  EXPECT_FALSE(stream->ended());
  ASSERT_TRUE(duet::test::eventually([&] { return stream->ended(); }));
  EXPECT_FALSE(stream->error()) << stream->error().message();
  EXPECT_NE(stream->body().find("data: [DONE]"), std::string::npos);
  int status = router_->process().wait(10s);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << router_->process().output();
  EXPECT_NE(router_->process().output().find("event=stopped"), std::string::npos);
}

TEST_F(RouterWithEngines, ClientThatGoesAwayCancelsTheUpstreamRequest) {
  StreamClient client;
  auto stream = client.open(router_->proxy(), "/v1/completions",
                            completion(std::string(4 * kThreshold, 'x'), 100, true));
  ASSERT_TRUE(duet::test::eventually([&] { return stream->pieces().size() >= 2; }));
  EXPECT_EQ(large0().metric("vllm:num_requests_running", "m"), 1);
  client.cancel(stream);
  // 100 tokens take 10 s; the engine stops long before when the router closes upstream.
  EXPECT_TRUE(duet::test::eventually(
      [&] { return large0().metric("vllm:num_requests_running", "m") == 0; }, 3s));
}

TEST(RouterWithoutSource, NotReadyAndAnswers503UntilASnapshotArrives) {
  duet::test::TempDir dir;
  std::ofstream(dir / "router.yaml") << "threads: 1\n";
  RouterProcess router((dir / "router.yaml").string(), {"--listen", "127.0.0.1:0", "--source",
                                                        "unix:" + (dir / "absent.sock").string()});
  auto readyz = router.admin("/readyz");
  EXPECT_EQ(readyz.result_int(), 503);
  auto detail = json::parse(readyz.body());
  EXPECT_EQ(detail["sources"][0]["synced"], false);
  EXPECT_EQ(router.post("/v1/completions", completion("hi")).result_int(), 503);

  test::FakeDuetd duetd((dir / "absent.sock").string(),
                        test::snapshot(1, json::array(), json::array(), json::array()));
  EXPECT_TRUE(duet::test::eventually([&] { return router.ready(); }));
  EXPECT_EQ(router.post("/v1/completions", completion("hi")).result_int(), 404);
}

TEST(RouterUnderSystemd, TellsReadyWatchdogReloadingAndStopping) {
  duet::test::TempDir dir;
  std::ofstream(dir / "router.yaml") << "threads: 1\n";
  duet::test::FakeNotifySocket systemd(dir / "notify.sock");
  RouterProcess router((dir / "router.yaml").string(),
                       {"--listen", "127.0.0.1:0", "--source", "unix:" + (dir / "absent.sock").string()},
                       {{"NOTIFY_SOCKET", (dir / "notify.sock").string()}, {"WATCHDOG_USEC", "200000"}});
  auto ready = systemd.receive_containing("READY=1");
  ASSERT_TRUE(ready);
  EXPECT_NE(ready->find("STATUS=1 listener(s), 1 source(s), 2 worker(s)"), std::string::npos) << *ready;
  EXPECT_TRUE(systemd.receive_containing("WATCHDOG=1", 2s));
  router.process().signal(SIGHUP);
  EXPECT_TRUE(systemd.receive_containing("RELOADING=1"));
  EXPECT_TRUE(systemd.receive_containing("READY=1"));
  router.process().signal(SIGTERM);
  EXPECT_TRUE(systemd.receive_containing("STOPPING=1"));
}

}  // namespace
}  // namespace duet::router
