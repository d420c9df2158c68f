// Scheduling through the real router between real duet-sim engines that run the engine model
// (--profile): a conversation's turns land on the engine that holds its prefix (the engine
// reports them cached), a full engine and a slow one stop receiving affinity traffic, and
// sessionAffinity keeps a session on one engine.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "scripted_engine.h"
#include "support/router_process.h"
#include "support/sim_process.h"
#include "watch_objects.h"

namespace duet::router {
namespace {

using duet::test::endpoint_of;
using duet::test::SimProcess;
using nlohmann::json;

class RouterScheduling : public duet::test::RouterTest {
 protected:
  // `count` engines chat-0, chat-1... alike: an H100 on a clock 50× faster, and `sim_flags`.
  void start(const json& scheduling, std::vector<std::string> sim_flags = {}, int count = 3) {
    std::vector<std::vector<std::string>> engines;
    for (int i = 0; i < count; ++i) {
      engines.push_back({"--profile", "nvidia-h100", "--time-scale", "50"});
      engines.back().insert(engines.back().end(), sim_flags.begin(), sim_flags.end());
    }
    start_engines(scheduling, engines);
  }

  // Engine chat-<i> with the engine model's flags `engines[i]`, behind one route.
  void start_engines(const json& scheduling, const std::vector<std::vector<std::string>>& engines) {
    for (std::size_t i = 0; i < engines.size(); ++i) {
      std::vector<std::string> flags = {"--model", "m", "--name", "chat-" + std::to_string(i)};
      flags.insert(flags.end(), engines[i].begin(), engines[i].end());
      sims_.push_back(std::make_unique<SimProcess>(flags));
    }
    auto route = test::backend_route("chat", "chat");
    route["spec"]["scheduling"] = scheduling;
    json listed = json::array();
    for (std::size_t i = 0; i < engines.size(); ++i)
      listed.push_back(test::engine("chat-" + std::to_string(i), "chat", endpoint_of(*sims_[i])));
    start_duetd(test::snapshot(1, json::array({route}), json::array({test::deployment("chat")}), listed));
    start_router("listen: [{address: '127.0.0.1:1'}]\n");
  }

  // One chat turn of `conversation`; returns the replica that answered and adds its answer.
  std::string turn(json& conversation, const std::string& question, json* usage = nullptr,
                   std::map<std::string, std::string> headers = {}) {
    conversation.push_back({{"role", "user"}, {"content", question}});
    auto res = router_->post("/v1/chat/completions",
                             json({{"model", "m"}, {"messages", conversation}, {"max_tokens", 4}}).dump(), headers);
    EXPECT_EQ(res.result_int(), 200) << res.body();
    auto body = json::parse(res.body());
    conversation.push_back({{"role", "assistant"}, {"content", body["choices"][0]["message"]["content"]}});
    if (usage) *usage = body["usage"];
    return std::string(res["x-duet-replica"]);
  }

  static json conversation(const std::string& topic) {
    return json::array({{{"role", "system"},
                         {"content", "You answer questions about " + topic + ". " + std::string(1200, '.')}}});
  }

  std::vector<std::unique_ptr<SimProcess>> sims_;
};

TEST_F(RouterScheduling, AConversationsTurnsLandWhereItsPrefixIsCached) {
  start(json{{"policy", "duet"}});
  std::map<std::string, std::string> home;
  std::set<std::string> homes;
  // Several conversations, one turn after another: load stays even (one request at a time).
  for (const char* topic : {"rivers", "volcanoes", "glaciers", "deserts", "reefs", "forests"}) {
    auto c = conversation(topic);
    auto first = turn(c, "Tell me one fact.");
    homes.insert(first);
    for (int t = 0; t < 3; ++t) {
      json usage;
      EXPECT_EQ(turn(c, "And another?", &usage), first) << topic;
      EXPECT_GT(usage["prompt_tokens_details"]["cached_tokens"].get<int>(), 0) << usage.dump();
    }
  }
  EXPECT_GE(homes.size(), 2u);  // conversations spread; each stays
}

// `tokens` three-letter words (4 bytes, one token each for duet-sim's tokenizer and for the
// router's estimate), different for each `seed` from the first word on.
std::string words(int seed, int tokens) {
  std::string text;
  for (int i = 0; i < tokens; ++i) {
    unsigned v = static_cast<unsigned>(seed * 7919 + i * 104729);
    text += ' ';
    for (int k = 0; k < 3; ++k, v /= 26) text += static_cast<char>('a' + v % 26);
  }
  return text;
}

// An engine whose cache holds 1,024 tokens (16 of the router's 256-byte chunks), which it
// tells in vllm:cache_config_info. A conversation's prefix counts for its next turn, and the
// x-duet-decision header says so; after other prompts filled the cache many times over, the
// router no longer believes the engine holds it (prefix=0) and, indeed, the engine has none of
// it cached. One engine, so that every prompt goes through its cache whatever the scores.
TEST_F(RouterScheduling, AnEvictedPrefixStopsAttractingRequests) {
  start(json{{"policy", "duet"}}, {"--kv-blocks", "64", "--block-size", "16"}, 1);
  // The router has read the engine's cache size (its /config shows what it schedules on).
  ASSERT_TRUE(duet::test::eventually([&] {
    auto config = json::parse(router_->admin("/config").body());
    auto stable = config["deployments"]["chat"]["stable"];
    return !stable.empty() && stable[0]["scheduling"]["cacheChunks"] == 1024 / 64;
  })) << router_->admin("/config").body();
  json c = json::array({{{"role", "system"}, {"content", words(1, 400)}}});
  auto home = turn(c, "Tell me one fact.");
  c.push_back({{"role", "user"}, {"content", "And another?"}});
  auto ask = [&](const json& messages) {
    return router_->post("/v1/chat/completions",
                         json({{"model", "m"}, {"messages", messages}, {"max_tokens", 4}}).dump());
  };
  auto again = ask(c);
  ASSERT_EQ(again.result_int(), 200) << again.body();
  EXPECT_EQ(std::string(again["x-duet-replica"]), home);
  std::string decision(again["x-duet-decision"]);
  EXPECT_EQ(decision.rfind("policy=duet pool=backend prefix=", 0), 0u) << decision;
  EXPECT_EQ(decision.find("prefix=0/"), std::string::npos) << decision;  // the prefix counted
  EXPECT_GT(json::parse(again.body())["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(), 0);

  for (int other = 2; other < 10; ++other) {  // 8 prompts of 400 tokens: 3 caches full
    auto res = ask(json::array({{{"role", "user"}, {"content", words(other, 400)}}}));
    ASSERT_EQ(res.result_int(), 200) << res.body();
  }
  auto after = ask(c);
  ASSERT_EQ(after.result_int(), 200) << after.body();
  decision = std::string(after["x-duet-decision"]);
  EXPECT_NE(decision.find("prefix=0/"), std::string::npos) << decision;
  EXPECT_EQ(json::parse(after.body())["usage"]["prompt_tokens_details"]["cached_tokens"], 0) << after.body();

  // What the index holds and how often it matched, on the admin pages.
  auto index = json::parse(router_->admin("/config").body())["prefixIndex"];
  EXPECT_GT(index["entries"].get<int>(), 8 * 6) << index.dump();  // each prompt's 6 chunks
  EXPECT_LE(index["entries"], index["maxEntries"]) << index.dump();
  EXPECT_GE(router_->metric("duet_router_prefix_chunks_total"), 11 * 6);
  EXPECT_GE(router_->metric("duet_router_prefix_chunks_matched_total"), 6);  // the second turn
  EXPECT_EQ(router_->metric("duet_router_spills_total"), 0);  // no size routing here
  // How fast the router writes into the engine's cache, sampled each scrape interval, where a
  // new prefix goes by (docs/scheduling.md): on /config too.
  EXPECT_TRUE(duet::test::eventually([&] {
    auto stable = json::parse(router_->admin("/config").body())["deployments"]["chat"]["stable"];
    return !stable.empty() && stable[0]["scheduling"]["cacheWriteRate"].get<double>() > 0 &&
           stable[0]["scheduling"]["cacheSendRate"].get<double>() > stable[0]["scheduling"]["cacheWriteRate"].get<double>();
  })) << router_->admin("/config").body();
}

// Two engines on the real clock: an H100 and a CPU (250× less compute). A conversation
// starts on the CPU while neither is timed (cold requests are shared); its next turn stays
// there (affinity; nothing to compare the CPU's time with). Once a cold request has timed the
// H100 too, the conversation's turns go to the H100, although only the CPU held its prefix,
// and stay there (the H100 then holds it: cached tokens): the slow engine stops receiving the
// affinity traffic.
TEST_F(RouterScheduling, ASlowEngineStopsReceivingItsConversationsAffinityTraffic) {
  start_engines(json{{"policy", "duet"}}, {{"--profile", "nvidia-h100", "--time-scale", "1"},
                                           {"--profile", "cpu", "--time-scale", "1"}});
  json c;
  std::string first;
  for (int seed = 1; seed <= 20 && first != "chat-1"; ++seed) {  // a coin toss while untimed
    c = json::array({{{"role", "system"}, {"content", words(seed, 100)}}});
    first = turn(c, "Tell me one fact.");
  }
  ASSERT_EQ(first, "chat-1") << "no conversation started on the CPU in 20";
  EXPECT_EQ(turn(c, "And another?"), "chat-1");
  std::string cold;
  // Until the H100 is timed too (a prompt of a chunk or more: the router times those).
  for (int seed = 100; seed < 120 && cold != "chat-0"; ++seed) {
    json other = json::array({{{"role", "system"}, {"content", words(seed, 70)}}});
    cold = turn(other, "Hi.");
  }
  ASSERT_EQ(cold, "chat-0") << "no cold request reached the H100 in 20";
  std::vector<std::string> homes;
  for (int t = 0; t < 4; ++t) {
    json usage;
    homes.push_back(turn(c, "And another?", &usage));
    if (t > 0) {  // the H100 holds it from the turn it first got
      EXPECT_GT(usage["prompt_tokens_details"]["cached_tokens"].get<int>(), 0) << usage.dump();
    }
  }
  EXPECT_EQ(homes, std::vector<std::string>(4, "chat-0")) << json(homes).dump();
}

TEST_F(RouterScheduling, LeastRequestIgnoresThePrefix) {
  start(json{{"policy", "leastRequest"}});
  std::set<std::string> replicas;
  auto c = conversation("tides");
  for (int t = 0; t < 12; ++t) replicas.insert(turn(c, "More?"));
  EXPECT_GE(replicas.size(), 2u);  // power of two choices: a conversation wanders
}

TEST_F(RouterScheduling, SessionAffinityKeepsASessionOnOneEngine) {
  start(json{{"policy", "sessionAffinity"}, {"sessionHeader", "x-session-id"}});
  std::set<std::string> sessions_home;
  for (int s = 0; s < 12; ++s) {
    auto c = json::array();
    std::string session = "session-" + std::to_string(s);
    auto first = turn(c, "Hi " + session, nullptr, {{"x-session-id", session}});
    sessions_home.insert(first);
    EXPECT_EQ(turn(c, "Again", nullptr, {{"x-session-id", session}}), first) << session;
  }
  EXPECT_GE(sessions_home.size(), 2u);
}

// Engines whose /metrics the test writes: one full (40 waiting, cache 97 % used), one whose
// metrics are garbage, one fine. The full one gets nothing once the router has read it, and
// garbage never costs a client an answer.
TEST_F(RouterScheduling, AnEngineThatSaysItIsFullGetsNoTrafficAndGarbageMetricsCostNothing) {
  auto engine = [](const std::string& metrics) {
    std::string ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    std::string text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                       std::to_string(metrics.size()) + "\r\n\r\n" + metrics;
    return std::make_unique<test::ScriptedEngine>(
        std::map<std::string, test::Script>{{"/v1/completions", {{ok}}}, {"/metrics", {{text}}}});
  };
  auto full = engine("vllm:num_requests_waiting{model_name=\"m\"} 40\nvllm:kv_cache_usage_perc 0.97\n");
  using namespace std::string_literals;
  auto garbage = engine("vllm:num_requests_waiting NaN\n{{{{\xff\x00 -1\nvllm:kv_cache_usage_perc x\n"s);
  auto fine = engine("vllm:num_requests_waiting 0\nvllm:kv_cache_usage_perc 0.1\n");
  auto route = test::backend_route("chat", "chat");
  route["spec"]["scheduling"] = {{"policy", "duet"}};
  json engines = json::array({test::engine("full-0", "chat", full->endpoint()),
                              test::engine("garbage-0", "chat", garbage->endpoint()),
                              test::engine("fine-0", "chat", fine->endpoint())});
  start_duetd(test::snapshot(1, json::array({route}), json::array({test::deployment("chat")}), engines));
  start_router("listen: [{address: '127.0.0.1:1'}]\n");
  // A second scrape: the router has read the answer to the first (one scrape at a time).
  auto scraped = [](const test::ScriptedEngine& e) { return e.scrapes() > 1; };
  ASSERT_TRUE(duet::test::eventually([&] { return scraped(*full) && scraped(*garbage) && scraped(*fine); }));
  auto completions = [](const test::ScriptedEngine& e) {
    int n = 0;
    for (const auto& r : e.received()) n += r.target == "/v1/completions";
    return n;
  };
  for (int i = 0; i < 30; ++i) {
    auto res = router_->post("/v1/completions", json({{"model", "m"}, {"prompt", "question " + std::to_string(i)}}).dump());
    EXPECT_EQ(res.result_int(), 200) << res.body();
  }
  EXPECT_EQ(completions(*full), 0);
  EXPECT_EQ(completions(*garbage) + completions(*fine), 30);
  // The scrapes went over kept connections, garbage or not: more than two a connection.
  ASSERT_TRUE(duet::test::eventually([&] { return fine->scrapes() >= 6 && garbage->scrapes() >= 6; }));
  for (const auto* e : {full.get(), garbage.get(), fine.get()})
    EXPECT_LT(e->scrape_connections() * 2, e->scrapes()) << e->scrape_connections() << " connections";
}

}  // namespace
}  // namespace duet::router
