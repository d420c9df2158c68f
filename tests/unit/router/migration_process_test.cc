// Mid-stream migration through the real duet-router (issue 20): two duet-sim engine models
// of one deployment, the first of which breaks its answers off after a few tokens in one of
// the ways a dying engine does (--crash-mode); the Route has `migration.enabled`. The client
// must read the same answer, byte for byte, as the healthy engine gives alone: one id, one
// [DONE], usage summed. Process tests: real processes on loopback, deadlines, no sleeps.

#include <gtest/gtest.h>

#include <map>

#include "fake_duetd.h"
#include "router_test_names.h"
#include "scripted_engine.h"
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

json route(int max_migrations, int ready_wait_ms = 5000, bool text_fallback = false) {
  json r = test::backend_route("chat", "chat");
  // roundRobin: a worker's first request goes to the first engine, the one that breaks.
  r["spec"]["scheduling"] = {{"policy", "roundRobin"}};
  r["spec"]["timeouts"] = {{"firstByteSeconds", 10}, {"idleSeconds", 1}};  // a stall: 1 s
  r["spec"]["migration"] = {{"enabled", true},
                            {"maxMigrations", max_migrations},
                            {"readyWaitMs", ready_wait_ms},
                            {"textFallback", text_fallback}};
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
  std::vector<std::string> pieces;  // each chunk's text
  json finish, stop_reason;         // the answer's
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
    r.pieces.push_back(c.contains("delta") ? c["delta"].value("content", "") : c.value("text", ""));
    r.text += r.pieces.back();
    if (c.value("finish_reason", json()).is_string()) {
      r.finish = c["finish_reason"];
      r.stop_reason = c.value("stop_reason", json());
    }
  }
  return r;
}

// The stream ended with the router's error event, whose message says `why`, no [DONE], and
// the HTTP answer itself ended cleanly.
void expect_error_event(const Read& got, const std::string& why) {
  EXPECT_EQ(got.transport_error, "");
  EXPECT_EQ(got.done, 0);
  ASSERT_FALSE(got.error.is_null()) << got.text;
  EXPECT_NE(got.error["message"].get<std::string>().find(why), std::string::npos) << got.error.dump();
}

class Migration : public duet::test::RouterTest {
 protected:
  // The engines of the pool, in the order roundRobin takes them: the first breaks as
  // `crash_flags` say; `more` engines after the second break the same way too.
  // `every_flags` go to every engine; `text_fallback` to the Route.
  void start(const std::vector<std::string>& crash_flags, int max_migrations = 2, int more = 0,
             const std::vector<std::string>& every_flags = {}, bool text_fallback = false) {
    json engines = json::array();
    for (int i = 0; i < 2 + more; ++i) {
      std::string name = i == 0 ? "breaking-0" : i == 1 && more == 0 ? "steady-0" : "breaking-" + std::to_string(i);
      auto flags = engine_flags(name);
      flags.insert(flags.end(), every_flags.begin(), every_flags.end());
      if (name.starts_with("breaking")) flags.insert(flags.end(), crash_flags.begin(), crash_flags.end());
      sims_.push_back(std::make_unique<SimProcess>(flags));
      engines.push_back(test::engine(name, "chat", endpoint_of(*sims_.back())));
    }
    start_duetd(test::snapshot(1, json::array({route(max_migrations, 5000, text_fallback)}),
                               json::array({test::deployment("chat")}), engines));
    start_router("listen: [{address: '127.0.0.1:1'}]\nthreads: 1\n");
  }

  // The answer as the steady engine gives it alone: the reference.
  Read reference(bool chat, const json& body = nullptr) {
    auto s = client_.open(sims_[1]->address(), chat ? "/v1/chat/completions" : "/v1/completions",
                          (body.is_null() ? request_body(chat) : body).dump());
    EXPECT_TRUE(eventually([&] { return s->ended(); }, 10s));
    return read_stream(*s);
  }

  Read through_router(bool chat, const json& body = nullptr) {
    auto s = client_.open(router_->proxy(), chat ? "/v1/chat/completions" : "/v1/completions",
                          (body.is_null() ? request_body(chat) : body).dump());
    EXPECT_TRUE(eventually([&] { return s->ended(); }, 20s)) << s->body();
    return read_stream(*s);
  }

  // A breaking engine (3 tokens, then a reset) and one more, `second` (a watch Engine
  // object, its endpoint filled in), the only ones duetd reports.
  void start_with(json second, int ready_wait_ms) {
    for (const char* name : {"breaking-0", "steady-0"}) {
      auto flags = engine_flags(name);
      if (name == std::string("breaking-0")) flags.insert(flags.end(), {"--crash-after-tokens", "3", "--crash-mode", "rst"});
      sims_.push_back(std::make_unique<SimProcess>(flags));
    }
    second["endpoint"] = endpoint_of(*sims_[1]);
    json engines = {test::engine("breaking-0", "chat", endpoint_of(*sims_[0])), second};
    start_duetd(test::snapshot(1, json::array({route(2, ready_wait_ms)}), json::array({test::deployment("chat")}), engines));
    start_router("listen: [{address: '127.0.0.1:1'}]\nthreads: 1\n");
  }

  std::vector<std::unique_ptr<SimProcess>> sims_;
  StreamClient client_;
};

// The design's test plan (section C, case 1): every crash mode, at the first token, the
// second, the middle and the last, for a completion and a chat.
class MigrationModes : public Migration,
                       public ::testing::WithParamInterface<std::tuple<const char*, int, bool>> {};

TEST_P(MigrationModes, TheClientReadsTheAnswerTheHealthyEngineGivesAlone) {
  auto [mode, after, chat] = GetParam();
  start({"--crash-after-tokens", std::to_string(after), "--crash-mode", mode});
  Read want = reference(chat);
  ASSERT_EQ(want.done, 1);
  ASSERT_FALSE(want.text.empty());
  Read got = through_router(chat);
  EXPECT_EQ(got.text, want.text);
  EXPECT_EQ(got.done, 1);
  EXPECT_TRUE(got.error.is_null()) << got.error.dump();
  EXPECT_EQ(got.transport_error, "");
  EXPECT_EQ(got.ids.size(), 1u);
  EXPECT_EQ(got.usage["completion_tokens"], kTokens);
  EXPECT_EQ(got.usage["prompt_tokens"], want.usage["prompt_tokens"]);
  EXPECT_TRUE(router_->process().wait_for_output("stream_migrating", 5s)) << "no migration happened";
  // Counted by why the engine failed and how the stream went on.
  const std::map<std::string, std::string> reasons = {{"rst", "cut"}, {"fin", "cut"}, {"stall", "cut"},
      {"error-event-then-done", "error_event"}, {"no-finish", "no_finish"}, {"abort", "abort"}};
  std::string series = "duet_router_stream_migrations_total{mode=\"" + std::string(after == 0 ? "request" : "exact") +
                       "\",reason=\"" + reasons.at(mode) + "\"}";
  EXPECT_EQ(router_->metric(series), 1) << router_->admin("/metrics").body();
  EXPECT_EQ(router_->metric_total("duet_router_stream_migrations_total"), 1);
}

INSTANTIATE_TEST_SUITE_P(
    EveryModeAtEveryPoint, MigrationModes,
    ::testing::Combine(::testing::Values("rst", "fin", "error-event-then-done", "no-finish", "abort", "stall"),
                       ::testing::Values(0, 1, kTokens / 2, kTokens - 1), ::testing::Bool()),
    [](const auto& info) {
      std::string name = std::string(std::get<0>(info.param)) + "After" + std::to_string(std::get<1>(info.param)) +
                         (std::get<2>(info.param) ? "Chat" : "Completion");
      std::erase(name, '-');
      return name;
    });

// A stop string that spans the seam (its start from the engine that broke, its end from the
// next): the router checks the client's stop strings itself, so the client reads what the
// healthy engine, checking them alone, gives: the text cut before it, finish_reason "stop".
class MigrationStops : public Migration, public ::testing::WithParamInterface<bool> {};

TEST_P(MigrationStops, AStopStringAcrossTheSeamEndsTheAnswerAsOneEngineWould) {
  bool chat = GetParam();
  constexpr int kBreakAfter = 4;
  start({"--crash-after-tokens", std::to_string(kBreakAfter), "--crash-mode", "rst"});
  Read plain = reference(chat);
  // The tokens' texts (a chat's role chunk has none): the stop string is the last two bytes of
  // the 4th and the first two of the 5th.
  std::vector<std::string> tokens;
  for (const auto& p : plain.pieces)
    if (!p.empty()) tokens.push_back(p);
  ASSERT_GT(tokens.size(), static_cast<std::size_t>(kBreakAfter + 1));
  const std::string& before = tokens[kBreakAfter - 1];
  std::string stop = before.substr(before.size() - 2) + tokens[kBreakAfter].substr(0, 2);
  json body = request_body(chat);
  body["stop"] = json::array({stop});
  Read want = reference(chat, body);
  ASSERT_EQ(want.finish, "stop") << stop;
  ASSERT_LT(want.text.size(), plain.text.size());

  Read got = through_router(chat, body);
  EXPECT_EQ(got.text, want.text) << stop;
  EXPECT_EQ(got.finish, "stop");
  EXPECT_EQ(got.stop_reason, stop);
  EXPECT_EQ(got.done, 1);
  EXPECT_TRUE(got.error.is_null()) << got.error.dump();
  EXPECT_EQ(got.usage["completion_tokens"], want.usage["completion_tokens"]);
  EXPECT_TRUE(router_->process().wait_for_output("stream_migrating", 5s)) << "no migration happened";
}

INSTANTIATE_TEST_SUITE_P(CompletionAndChat, MigrationStops, ::testing::Bool(),
                         [](const auto& info) { return std::string(info.param ? "Chat" : "Completion"); });

// Engines that return no token ids (--token-ids off): with textFallback the answer so far
// goes on as text (a chat's final assistant message to continue, a completion's prompt with
// the answer appended), which duet-sim's template round-trips: the same answer, byte for byte.
class MigrationText : public Migration, public ::testing::WithParamInterface<bool> {};

TEST_P(MigrationText, AnEngineWithoutIdsIsContinuedFromTheText) {
  bool chat = GetParam();
  start({"--crash-after-tokens", "5", "--crash-mode", "fin"}, 2, 0, {"--token-ids", "off"}, true);
  Read want = reference(chat);
  Read got = through_router(chat);
  EXPECT_EQ(got.text, want.text);
  EXPECT_EQ(got.done, 1);
  EXPECT_TRUE(got.error.is_null()) << got.error.dump();
  EXPECT_EQ(got.ids.size(), 1u);
  EXPECT_EQ(got.usage["completion_tokens"], kTokens);
  EXPECT_EQ(got.usage["prompt_tokens"], want.usage["prompt_tokens"]);
  EXPECT_EQ(router_->metric("duet_router_stream_migrations_total{mode=\"text\",reason=\"cut\"}"), 1);
}

TEST_P(MigrationText, WithoutTextFallbackItEndsWithTheErrorEvent) {
  bool chat = GetParam();
  start({"--crash-after-tokens", "5", "--crash-mode", "fin"}, 2, 0, {"--token-ids", "off"}, false);
  expect_error_event(through_router(chat), "the engine returned no token ids");
}

INSTANTIATE_TEST_SUITE_P(CompletionAndChat, MigrationText, ::testing::Bool(),
                         [](const auto& info) { return std::string(info.param ? "Chat" : "Completion"); });

// An engine that refuses the continuation with a 4xx is not sick and another of the same
// deployment would refuse it too: the stream ends with the error event saying so.
TEST_F(Migration, AContinuationRefusedWithA4xxEndsTheStream) {
  auto flags = engine_flags("breaking-0");
  flags.insert(flags.end(), {"--crash-after-tokens", "3", "--crash-mode", "rst"});
  sims_.push_back(std::make_unique<SimProcess>(flags));
  const std::string refusal = "{\"error\":{\"message\":\"prompt too long\",\"code\":400}}";
  test::ScriptedEngine refusing({{"/v1/completions",
                                  {{"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: " +
                                    std::to_string(refusal.size()) + "\r\n\r\n" + refusal}}}});
  json engines = {test::engine("breaking-0", "chat", endpoint_of(*sims_[0])),
                  test::engine("refusing-0", "chat", refusing.endpoint())};
  start_duetd(test::snapshot(1, json::array({route(2)}), json::array({test::deployment("chat")}), engines));
  start_router("listen: [{address: '127.0.0.1:1'}]\nthreads: 1\n");
  expect_error_event(through_router(false), "the engine refused the continuation (400)");
  EXPECT_EQ(router_->metric_total("duet_router_stream_migrations_total"), 1);
  EXPECT_FALSE(router_->ejected("chat", "refusing-0"));
}

// A client that goes away is never a failure: nothing moves, and the engine's request is
// cancelled (its connection closed), which the engine counts as an abort.
TEST_F(Migration, AClientThatGoesAwayIsNotMigratedAndItsEngineStops) {
  start({});
  json body = request_body(false);
  body["max_tokens"] = 20000;  // seconds of answer
  auto s = client_.open(router_->proxy(), "/v1/completions", body.dump());
  ASSERT_TRUE(eventually([&] { return s->body().find("\"text\"") != std::string::npos; }, 10s)) << s->body();
  client_.cancel(s);
  const std::string aborted = "vllm:request_success_total{finished_reason=\"abort\",model_name=\"m\"} 1";
  EXPECT_TRUE(eventually([&] { return sims_[0]->get("/metrics").body().find(aborted) != std::string::npos; }, 10s))
      << sims_[0]->get("/metrics").body();
  EXPECT_EQ(router_->process().output().find("stream_migrating"), std::string::npos);
  EXPECT_EQ(router_->metric_total("duet_router_stream_migrations_total"), 0);
}

// A request that cannot move (logprobs) is not moved: the client gets the tokens sent, then
// an error event saying why, and the HTTP answer ends cleanly.
TEST_F(Migration, ARequestThatCannotMoveEndsWithAnErrorEventSayingWhy) {
  start({"--crash-after-tokens", "3", "--crash-mode", "rst"});
  json body = request_body(false);
  body["logprobs"] = 1;
  expect_error_event(through_router(false, body), "not movable (logprobs)");
  EXPECT_FALSE(router_->process().output().find("stream_migrating") != std::string::npos);
}

// Three engines that each break 3 tokens into what they send, maxMigrations 2: two
// migrations (3 + 3 + 3 tokens), then the clean error at the limit, and no [DONE].
TEST_F(Migration, TwoEnginesBreakInARowThenTheLimitEndsItWithAnErrorEvent) {
  start({"--crash-after-tokens", "3", "--crash-mode", "rst"}, 2, 1);
  Read got = through_router(false);
  expect_error_event(got, "maxMigrations (2) reached");
  int words = 0;
  for (char ch : got.text) words += ch == ' ';
  EXPECT_EQ(words, 9) << got.text;
  EXPECT_EQ(router_->metric_total("duet_router_stream_migrations_total"), 2);
}

// The only other engine turns Ready after the stream began (duetd restarted it): the stream
// waits for it (readyWaitMs) and goes on there, from the routing table that has it.
TEST_F(Migration, AStreamWaitsForAnEngineThatTurnsReadyAndGoesOnThere) {
  start_with(test::engine("steady-0", "chat", "", false), 10'000);
  Read want = reference(false);
  auto s = client_.open(router_->proxy(), "/v1/completions", request_body(false).dump());
  ASSERT_TRUE(router_->process().wait_for_output("stream_migrating", 10s)) << s->body();
  EXPECT_FALSE(s->ended());
  duetd_->push(test::change("MODIFIED", "Engine", 2, test::engine("steady-0", "chat", endpoint_of(*sims_[1]))));
  ASSERT_TRUE(eventually([&] { return s->ended(); }, 20s)) << s->body();
  Read got = read_stream(*s);
  EXPECT_EQ(got.text, want.text);
  EXPECT_EQ(got.done, 1);
  EXPECT_TRUE(got.error.is_null()) << got.error.dump();
  EXPECT_TRUE(router_->process().wait_for_output("stream_resumed", 5s));
}

// A stream stays on its deployment and track (the same model and version): with only a
// canary engine left, it waits readyWaitMs for a stable one, then ends with the error event.
TEST_F(Migration, AStreamNeverMovesToTheOtherTrackAndEndsWhenNoEngineTurnsReady) {
  start_with(test::engine("steady-0", "chat", "", true, "canary"), 300);
  expect_error_event(through_router(false), "no other Ready endpoint");
  EXPECT_EQ(router_->process().output().find("stream_resumed"), std::string::npos);
}

}  // namespace
}  // namespace duet::router
