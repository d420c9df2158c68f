// duet-sim as the engines that mid-stream migration (issue 20) resumes from, as a process:
// with the engine model its next token is a function of every token before it, so a
// continuation sent as token ids (the prompt's and the answer's so far) repeats the
// uninterrupted answer exactly; and an answer breaks off after N tokens in each of the ways
// a dying engine's answer ends (--crash-mode), which the router must tell from a whole one.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/sim_process.h"
#include "unit/engine/sim_streamed_answer.h"

namespace duet::test {
namespace {

using nlohmann::json;

const std::vector<std::string> kEngine = {"--profile", "nvidia-h100", "--time-scale", "100"};

// An event with a choice (not an error event, not a usage chunk).
bool has_choice(const json& event) { return event.contains("choices") && !event["choices"].empty(); }

// A reference answer, then continuations from each cut point k: prompt = the reference's
// prompt ids + its first k output ids, max_tokens = what is left. Each must repeat the
// reference's tokens from k on, ids and text alike. Chat's reference continues through
// /v1/completions, as the router's exact path does.
class SimContinuation : public ::testing::TestWithParam<const char*> {};

TEST_P(SimContinuation, FromPromptAndOutputIdsRepeatsTheUninterruptedAnswer) {
  SimProcess sim(kEngine);
  constexpr int kTokens = 12;
  bool chat = std::string_view(GetParam()) == "chat";
  json request = chat ? json{{"messages", {{{"role", "user"}, {"content", "Where does a canary's traffic go?"}}}}}
                      : json{{"prompt", "Where does a canary's traffic go?"}};
  request["max_tokens"] = kTokens;
  auto reference = stream_answer(sim, chat ? "/v1/chat/completions" : "/v1/completions", request);
  ASSERT_TRUE(reference.done);
  ASSERT_EQ(reference.ids.size(), static_cast<std::size_t>(kTokens));
  ASSERT_FALSE(reference.prompt_ids.empty());

  for (int k : {0, 1, kTokens / 2, kTokens - 1}) {
    std::vector<uint32_t> prompt = reference.prompt_ids;
    prompt.insert(prompt.end(), reference.ids.begin(), reference.ids.begin() + k);
    auto rest =
        stream_answer(sim, "/v1/completions", {{"prompt", prompt}, {"max_tokens", kTokens - k}});
    EXPECT_TRUE(rest.done);
    EXPECT_EQ(rest.prompt_ids, prompt) << "k=" << k;
    EXPECT_EQ(rest.ids, std::vector<uint32_t>(reference.ids.begin() + k, reference.ids.end())) << "k=" << k;
    EXPECT_EQ(rest.texts, std::vector<std::string>(reference.texts.begin() + k, reference.texts.end())) << "k=" << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Apis, SimContinuation, ::testing::Values("completions", "chat"));

// An engine without return_token_ids (--token-ids off) answers without them.
TEST(SimTokenIds, OffMeansNoIdsInTheStream) {
  auto flags = kEngine;
  flags.insert(flags.end(), {"--token-ids", "off"});
  SimProcess sim(flags);
  auto answer = stream_answer(sim, "/v1/completions", {{"prompt", "hello"}, {"max_tokens", 3}});
  EXPECT_TRUE(answer.done);
  EXPECT_TRUE(answer.ids.empty());
  EXPECT_TRUE(answer.prompt_ids.empty());
}

// --crash-after-tokens 3: the client gets the first three tokens, then the answer ends the
// way --crash-mode says.
struct BreakOff {
  const char* mode;
  bool transport_error;   // the connection reset or closed mid-answer
  bool done;              // `data: [DONE]` came
  const char* last_event;  // what the event after the tokens holds: "error", "abort" or ""
};

void PrintTo(const BreakOff& b, std::ostream* os) { *os << b.mode; }

class SimAnswerBreaksOff : public ::testing::TestWithParam<BreakOff> {};

TEST_P(SimAnswerBreaksOff, AfterItsTokensAsTheModeSays) {
  const BreakOff& c = GetParam();
  auto flags = kEngine;
  flags.insert(flags.end(), {"--crash-after-tokens", "3", "--crash-mode", c.mode});
  SimProcess sim(flags);
  StreamClient client;
  auto stream = client.open(sim.address(), "/v1/completions",
                            json({{"prompt", "hello there"}, {"max_tokens", 8}, {"stream", true}}).dump());
  auto tokens_in = [&] {
    int n = 0;
    for (const auto& e : sse_events(stream->body()).first)
      if (has_choice(e) && !e["choices"][0]["text"].get<std::string>().empty()) ++n;
    return n;
  };
  if (std::string_view(c.mode) == "stall") {
    ASSERT_TRUE(eventually([&] { return tokens_in() == 3; }, 10s)) << stream->body();
    EXPECT_FALSE(eventually([&] { return stream->ended(); }, 500ms)) << "a stalled answer ended";
    EXPECT_EQ(tokens_in(), 3);
    return;
  }
  ASSERT_TRUE(eventually([&] { return stream->ended(); }, 10s));
  EXPECT_EQ(static_cast<bool>(stream->error()), c.transport_error) << stream->error().message();
  auto [events, done] = sse_events(stream->body());
  EXPECT_EQ(done, c.done) << stream->body();
  EXPECT_EQ(tokens_in(), 3) << stream->body();
  for (const auto& e : events) {  // no event says the answer finished well
    if (has_choice(e) && e["choices"][0].contains("finish_reason")) {
      EXPECT_NE(e["choices"][0]["finish_reason"], "length") << e.dump();
    }
  }
  std::string last = c.last_event;
  ASSERT_EQ(events.size(), last.empty() ? 3u : 4u) << stream->body();
  if (last == "error") {
    EXPECT_EQ(events[3]["error"]["type"], "server_error") << events[3].dump();
  }
  if (last == "abort") {
    EXPECT_EQ(events[3]["choices"][0]["finish_reason"], "abort");
    EXPECT_EQ(events[3]["usage"]["completion_tokens"], 3);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Modes, SimAnswerBreaksOff,
    ::testing::Values(BreakOff{"rst", true, false, ""}, BreakOff{"fin", true, false, ""},
                      BreakOff{"error-event-then-done", false, true, "error"},
                      BreakOff{"no-finish", false, true, ""}, BreakOff{"abort", false, true, "abort"},
                      BreakOff{"stall", false, false, ""}),
    [](const auto& info) {
      std::string name = info.param.mode;
      std::erase(name, '-');
      return name;
    });

// The latency model (no --profile) breaks off the same way, after " tok0 tok1".
TEST(SimAnswerBreaksOff, WithoutTheEngineModelToo) {
  SimProcess sim({"--ttft-ms", "5", "--tpot-ms", "5", "--crash-after-tokens", "2", "--crash-mode", "abort"});
  StreamClient client;
  auto stream = client.open(sim.address(), "/v1/completions",
                            json({{"prompt", "x"}, {"max_tokens", 5}, {"stream", true}}).dump());
  ASSERT_TRUE(eventually([&] { return stream->ended(); }, 10s));
  auto [events, done] = sse_events(stream->body());
  ASSERT_EQ(events.size(), 3u) << stream->body();
  EXPECT_EQ(events[1]["choices"][0]["text"], " tok1");
  EXPECT_EQ(events[2]["choices"][0]["finish_reason"], "abort");
  EXPECT_TRUE(done);
}

// A whole (non-streamed) answer and the instant path (no timers) break off too: after 2 of 5
// tokens, abort answers with those 2 and finish_reason "abort"; a stream written at once
// has its 2 tokens, then the closing chunk.
TEST(SimAnswerBreaksOff, WholeAnswersAndTheInstantPathToo) {
  SimProcess timed({"--ttft-ms", "5", "--tpot-ms", "5", "--crash-after-tokens", "2", "--crash-mode", "abort"});
  auto whole = timed.post("/v1/completions", json({{"prompt", "x"}, {"max_tokens", 5}}).dump());
  ASSERT_EQ(whole.result_int(), 200) << whole.body();
  auto answer = json::parse(whole.body());
  EXPECT_EQ(answer["choices"][0]["text"], " tok0 tok1");
  EXPECT_EQ(answer["choices"][0]["finish_reason"], "abort");
  EXPECT_EQ(answer["usage"]["completion_tokens"], 2);

  SimProcess instant({"--crash-after-tokens", "2", "--crash-mode", "abort"});
  auto streamed = instant.post("/v1/completions", json({{"prompt", "x"}, {"max_tokens", 5}, {"stream", true}}).dump());
  auto [events, done] = sse_events(streamed.body());
  ASSERT_EQ(events.size(), 3u) << streamed.body();
  EXPECT_EQ(events[1]["choices"][0]["text"], " tok1");
  EXPECT_EQ(events[2]["choices"][0]["finish_reason"], "abort");
  EXPECT_TRUE(done);
}

}  // namespace
}  // namespace duet::test
