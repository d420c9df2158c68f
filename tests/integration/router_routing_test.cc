// duet-router between real duet-sim engines and a fake duetd, with JWT auth on: the size
// pools (SPEC §5 step 4) and the canary split (step 5) as clients see them.

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "duet/jwt.h"
#include "fake_duetd.h"
#include "router_test_names.h"
#include "support/router_process.h"
#include "support/sim_process.h"
#include "support/temp_dir.h"
#include "support/test_keys.h"
#include "watch_objects.h"

namespace duet::router {
namespace {

constexpr uint64_t kThreshold = 100;
constexpr int kCanaryWeight = 10;
const std::string kSecret = "routing-test-secret";

// `Authorization` for a token of `subject` + `n` (when n >= 0).
std::string bearer(std::string subject, int n = -1) {
  if (n >= 0) subject += std::to_string(n);
  auto exp = duet::test::epoch_seconds(std::chrono::hours(1));
  std::string value = "Bearer ";
  return value += jwt::mint_hs256(kSecret, {{"sub", subject}, {"exp", exp}});
}

class RouterRouting : public duet::test::RouterTest {
 protected:
  void SetUp() override {
    for (const char* name : {"small-0", "small-canary", "large-0"})
      sims_.push_back(
          std::make_unique<SimProcess>(std::vector<std::string>{"--model", "m", "--name", name}));
    auto route = test::size_route("chat", kThreshold, "chat-small", "chat-large");
    route["spec"]["canaryHeader"] = {{"name", "x-canary"}, {"value", "true"}};
    route["spec"]["stickiness"] = {{"claim", "sub"}};
    start_duetd(test::snapshot(
        1, json::array({route}),
        json::array(
            {test::deployment("chat-small", kCanaryWeight), test::deployment("chat-large")}),
        json::array(
            {test::engine("small-0", "chat-small", endpoint_of(*sims_[0])),
             test::engine("small-canary", "chat-small", endpoint_of(*sims_[1]), true, "canary"),
             test::engine("large-0", "chat-large", endpoint_of(*sims_[2]))})));
    std::ofstream(dir_ / "jwt.secret") << kSecret << "\n";
    start_router(std::string("auth: {jwt: {hmacSecretFile: ") + (dir_ / "jwt.secret").string() +
                 "}}\n");
  }

  // The deployment that served `body`, asking for the stable version.
  std::string deployment_for(const std::string& body, std::string_view target = "/v1/completions") {
    auto response =
        client().post(target, body, {{"authorization", bearer("alice")}, {"x-canary", "false"}});
    EXPECT_EQ(response.result_int(), 200) << response.body();
    std::string backend(response["x-duet-backend"]);
    return backend.substr(0, backend.find('/'));
  }
  ProxyClient& client() {
    if (!client_) client_ = std::make_unique<ProxyClient>(router_->proxy());
    return *client_;
  }

  std::vector<std::unique_ptr<SimProcess>> sims_;
  std::unique_ptr<ProxyClient> client_;
};

TEST_F(RouterRouting, PromptSizePicksThePoolAndMaxTokensCounts) {
  EXPECT_EQ(deployment_for(completion("hello")), "chat-small");
  EXPECT_EQ(deployment_for(completion(std::string(4 * kThreshold, 'x'))), "chat-large");
  // 40 ASCII bytes are 10 tokens: max_tokens 89 stays below the threshold, 90 reaches it.
  EXPECT_EQ(deployment_for(completion(std::string(40, 'x'), 89)), "chat-small");
  EXPECT_EQ(deployment_for(completion(std::string(40, 'x'), 90)), "chat-large");
  EXPECT_EQ(router_->metric(R"(duet_router_requests_total{code="200",pool="small",route="chat",)"
                            R"(version="stable"})"),
            2);
  EXPECT_EQ(router_->metric(R"(duet_router_first_byte_seconds_count{pool="large",route="chat",)"
                            R"(version="stable"})"),
            2);
}

TEST_F(RouterRouting, CjkTextCountsOneTokenPerCharacter) {
  std::string cjk;
  for (uint64_t i = 0; i < kThreshold - 2; ++i) cjk += "\xe4\xb8\xad";  // 中: 3 bytes, 1 token
  EXPECT_EQ(deployment_for(completion(cjk, 1)), "chat-small");          // 98 + 1 = 99 tokens
  EXPECT_EQ(deployment_for(completion(cjk, 2)), "chat-large");          // 98 + 2 = 100 tokens
  json chat = {{"model", "m"},
               {"max_tokens", 1},
               {"messages", {{{"role", "user"}, {"content", cjk + "\xe4\xb8\xad"}}}}};
  EXPECT_EQ(deployment_for(chat.dump(), "/v1/chat/completions"),
            "chat-large");  // 99 + 1 through messages
}

TEST_F(RouterRouting, CanaryHeaderTrueAlwaysReachesCanaryAndFalseNever) {
  for (int i = 0; i < 20; ++i) {
    auto auth = bearer("user-", i);
    auto canary = client().post("/v1/completions", completion("hi"),
                                {{"authorization", auth}, {"x-canary", "true"}});
    ASSERT_EQ(canary.result_int(), 200) << canary.body();
    EXPECT_EQ(canary["x-duet-version"], "canary");
    EXPECT_EQ(canary["x-duet-replica"], "small-canary");
    auto stable = client().post("/v1/completions", completion("hi"),
                                {{"authorization", auth}, {"x-canary", "false"}});
    EXPECT_EQ(stable["x-duet-version"], "stable");
    EXPECT_EQ(stable["x-duet-replica"], "small-0");
  }
}

// 10,000 requests from 1,000 subjects over 32 keep-alive connections.
TEST_F(RouterRouting, WeightTenSendsTenPercentOfSubjectsToCanaryAndEachStays) {
  constexpr int kSubjects = 1000, kPerSubject = 10, kThreads = 32;
  std::vector<std::string> auth(kSubjects);
  for (int s = 0; s < kSubjects; ++s) auth[s] = bearer("subject-", s);
  std::vector<std::array<int, 2>> seen(kSubjects, {0, 0});  // [stable, canary] per subject
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      ProxyClient c(router_->proxy());
      for (int s = t; s < kSubjects; s += kThreads)
        for (int r = 0; r < kPerSubject; ++r) {
          auto response = c.post("/v1/completions", completion("hi"), {{"authorization", auth[s]}});
          if (response.result_int() != 200) ++failures;
          ++seen[s][response["x-duet-version"] == "canary"];
        }
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  int canary_requests = 0, split_subjects = 0;
  for (const auto& [stable, canary] : seen) {
    canary_requests += canary;
    split_subjects += stable != 0 && canary != 0;
  }
  EXPECT_EQ(split_subjects, 0);  // every subject stayed on one version
  double share = canary_requests / double(kSubjects * kPerSubject);
  EXPECT_NEAR(share, kCanaryWeight / 100.0, 0.015) << canary_requests;
}

}  // namespace
}  // namespace duet::router
