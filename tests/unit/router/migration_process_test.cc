// Mid-stream migration through the real duet-router (issue 20): two duet-sim engine models
// of one deployment, the first of which breaks its answers off after a few tokens in one of
// the ways a dying engine does (--crash-mode); the Route has `migration.enabled`. The client
// must read the same answer, byte for byte, as the healthy engine gives alone: one id, one
// [DONE], usage summed. Process tests: real processes on loopback, deadlines, no sleeps.

#include <gtest/gtest.h>

#include "fake_duetd.h"
#include "router_test_names.h"
#include "support/router_process.h"
#include "support/sim_process.h"
#include "watch_objects.h"

namespace duet::router {
namespace {

using duet::test::eventually;
using duet::test::StreamClient;

constexpr int kTokens = 12;

std::vector<std::string> engine_flags(const std::string& name) {
  return {"--model", "m", "--name", name, "--profile", "nvidia-h100", "--time-scale", "100"};
}

json route(int max_migrations) {
  json r = test::backend_route("chat", "chat");
  // roundRobin: a worker's first request goes to the first engine, the one that breaks.
  r["spec"]["scheduling"] = {{"policy", "roundRobin"}};
  r["spec"]["timeouts"] = {{"firstByteSeconds", 10}, {"idleSeconds", 1}};  // a stall: 1 s
  r["spec"]["migration"] = {{"enabled", true}, {"maxMigrations", max_migrations}};
  return r;
}

json request_body(bool chat) {
  json r = chat ? json{{"messages", {{{"role", "user"}, {"content", "Which pool serves long prompts?"}}}}}
                : json{{"prompt", "Which pool serves long prompts?"}};
  r["model"] = "m";
  r["max_tokens"] = kTokens;
  r["stream"] = true;
  r["stream_options"] = {{"include_usage", true}};
  return r;
}

// What a client read from a stream: the text, the ids, the usage, [DONE]s, errors.
struct Read {
  std::string text;
  std::set<std::string> ids;
  json usage;
  int done = 0;
  json error;
  bool ended = false;
  std::string transport_error;
};

Read read_stream(const duet::test::StreamRecord& s) {
  Read r;
  r.ended = s.ended();
  if (s.error()) r.transport_error = s.error().message();
  auto [events, done] = duet::test::sse_events(s.body());
  r.done = done;
  for (const auto& e : events) {
    if (e.contains("error")) {
      r.error = e["error"];
      continue;
    }
    r.ids.insert(e.value("id", ""));
    if (e.contains("usage") && e["usage"].is_object()) r.usage = e["usage"];
    if (!e.contains("choices") || e["choices"].empty()) continue;
    const json& c = e["choices"][0];
    r.text += c.contains("delta") ? c["delta"].value("content", "") : c.value("text", "");
  }
  return r;
}

class Migration : public duet::test::RouterTest {
 protected:
  void start(const std::vector<std::string>& crash_flags, int max_migrations = 2,
             const std::vector<std::string>& second_flags = {}) {
    auto breaking = engine_flags("breaking-0");
    breaking.insert(breaking.end(), crash_flags.begin(), crash_flags.end());
    breaking_ = std::make_unique<SimProcess>(breaking);
    auto steady = engine_flags("steady-0");
    steady.insert(steady.end(), second_flags.begin(), second_flags.end());
    steady_ = std::make_unique<SimProcess>(steady);
    start_duetd(test::snapshot(1, json::array({route(max_migrations)}), json::array({test::deployment("chat")}),
                               json::array({test::engine("breaking-0", "chat", endpoint_of(*breaking_)),
                                            test::engine("steady-0", "chat", endpoint_of(*steady_))})));
    start_router("listen: [{address: '127.0.0.1:1'}]\nthreads: 1\n");
  }

  // The answer as the steady engine gives it alone: the reference.
  Read reference(bool chat) {
    auto s = client_.open(steady_->address(), chat ? "/v1/chat/completions" : "/v1/completions",
                          request_body(chat).dump());
    EXPECT_TRUE(eventually([&] { return s->ended(); }, 10s));
    return read_stream(*s);
  }

  Read through_router(bool chat) {
    auto s = client_.open(router_->proxy(), chat ? "/v1/chat/completions" : "/v1/completions",
                          request_body(chat).dump());
    EXPECT_TRUE(eventually([&] { return s->ended(); }, 20s)) << s->body();
    return read_stream(*s);
  }

  std::unique_ptr<SimProcess> breaking_, steady_;
  StreamClient client_;
};

struct Case {
  const char* mode;
  const char* after;
  bool chat;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.mode << " after " << c.after << (c.chat ? " (chat)" : ""); }

class MigrationModes : public Migration, public ::testing::WithParamInterface<Case> {};

TEST_P(MigrationModes, TheClientReadsTheAnswerTheHealthyEngineGivesAlone) {
  const Case& c = GetParam();
  start({"--crash-after-tokens", c.after, "--crash-mode", c.mode});
  Read want = reference(c.chat);
  ASSERT_EQ(want.done, 1);
  ASSERT_FALSE(want.text.empty());
  Read got = through_router(c.chat);
  EXPECT_EQ(got.text, want.text);
  EXPECT_EQ(got.done, 1);
  EXPECT_TRUE(got.error.is_null()) << got.error.dump();
  EXPECT_EQ(got.transport_error, "");
  EXPECT_EQ(got.ids.size(), 1u);
  EXPECT_EQ(got.usage["completion_tokens"], kTokens);
  EXPECT_EQ(got.usage["prompt_tokens"], want.usage["prompt_tokens"]);
  EXPECT_TRUE(router_->process().wait_for_output("stream_migrating", 5s)) << "no migration happened";
  auto metrics = router_->admin("/metrics").body();
  EXPECT_NE(metrics.find("duet_router_stream_migrations_total 1\n"), std::string::npos) << metrics;
}

INSTANTIATE_TEST_SUITE_P(
    EveryMode, MigrationModes,
    ::testing::Values(Case{"rst", "5", false}, Case{"fin", "5", true}, Case{"error-event-then-done", "1", false},
                      Case{"no-finish", "11", true}, Case{"abort", "6", false}, Case{"stall", "3", true},
                      Case{"rst", "0", true}),
    [](const auto& info) {
      std::string name = std::string(info.param.mode) + "After" + info.param.after + (info.param.chat ? "Chat" : "");
      std::erase(name, '-');
      return name;
    });

// Both engines break after 3 tokens and maxMigrations is 1: the first breaks, the second
// continues and breaks too; the client gets 6 tokens, then the clean error, and no [DONE].
TEST_F(Migration, StopsAtItsLimitWithAnErrorEventAndNoDone) {
  std::vector<std::string> breaks = {"--crash-after-tokens", "3", "--crash-mode", "rst"};
  start(breaks, 1, breaks);
  Read got = through_router(false);
  EXPECT_EQ(got.done, 0);
  EXPECT_EQ(got.transport_error, "");  // the HTTP answer itself ends cleanly
  ASSERT_FALSE(got.error.is_null());
  EXPECT_NE(got.error["message"].get<std::string>().find("maxMigrations (1) reached"), std::string::npos)
      << got.error.dump();
  int words = 0;
  for (char ch : got.text) words += ch == ' ';
  EXPECT_EQ(words, 6) << got.text;
}

}  // namespace
}  // namespace duet::router
