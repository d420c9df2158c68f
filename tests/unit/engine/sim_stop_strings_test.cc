// Stop strings in duet-sim, as a process (vLLM's stop, include_stop_str_in_output, min_tokens):
// for a request with `stop`, the streamed text joined equals the whole answer's text, which is
// the uninterrupted answer's text cut before the first occurrence of a stop string; every
// generated token counts and keeps its id; a stream holds back what could begin a stop string.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/sim_process.h"
#include "unit/engine/sim_streamed_answer.h"

namespace duet::test {
namespace {

using nlohmann::json;

const std::vector<std::string> kStopEngine = {"--profile", "nvidia-h100", "--time-scale", "100"};
constexpr int kStopTokens = 12;

std::string_view path_of(bool chat) { return chat ? "/v1/chat/completions" : "/v1/completions"; }

json stop_request(bool chat) {
  json request =
      chat ? json{{"messages",
                   {{{"role", "user"}, {"content", "How does a stop string end an answer?"}}}}}
           : json{{"prompt", "How does a stop string end an answer?"}};
  request["max_tokens"] = kStopTokens;
  return request;
}

// The whole (non-streamed) answer's choice and usage.
json whole_answer(SimProcess& sim, bool chat, const json& request) {
  auto res = sim.post(path_of(chat), request.dump());
  EXPECT_EQ(res.result_int(), 200) << res.body();
  return json::parse(res.body());
}

std::string whole_text(const json& answer) {
  const auto& choice = answer["choices"][0];
  return choice.contains("message") ? choice["message"]["content"].get<std::string>()
                                    : choice["text"].get<std::string>();
}

// Tokens of `texts` until their text reaches `bytes`.
std::size_t tokens_to_reach(const std::vector<std::string>& texts, std::size_t bytes) {
  std::size_t n = 0;
  for (std::size_t have = 0; have < bytes; ++n) have += texts.at(n).size();
  return n;
}

class SimStopStrings : public ::testing::TestWithParam<const char*> {
 protected:
  bool chat() const { return std::string_view(GetParam()) == "chat"; }
};

TEST_P(SimStopStrings, EndTheAnswerCutBeforeTheFirstOccurrenceStreamedOrWhole) {
  SimProcess sim(kStopEngine);
  auto reference = stream_answer(sim, path_of(chat()), stop_request(chat()));
  ASSERT_EQ(reference.texts.size(), static_cast<std::size_t>(kStopTokens));
  const std::string full = reference.text();
  // A whole word, a string across two words' boundary, and a list whose second string is
  // the one that occurs.
  const auto& w = reference.texts;
  for (json stop :
       {json(w[5]), json(w[3].substr(2) + w[4].substr(0, 3)), json({"zzz", w[8].substr(1)})}) {
    SCOPED_TRACE("stop " + stop.dump() + " in '" + full + "'");
    std::string matched = stop.is_string() ? stop.get<std::string>() : stop[1].get<std::string>();
    std::size_t at = full.find(matched);
    ASSERT_NE(at, std::string::npos);
    std::size_t tokens = tokens_to_reach(w, at + matched.size());
    auto request = stop_request(chat());
    request["stop"] = stop;

    auto streamed = stream_answer(sim, path_of(chat()), request);
    EXPECT_TRUE(streamed.done);
    EXPECT_EQ(streamed.text(), full.substr(0, at));
    EXPECT_EQ(streamed.ids,
              std::vector<uint32_t>(reference.ids.begin(), reference.ids.begin() + tokens));
    EXPECT_EQ(streamed.texts.size(), tokens);  // a chunk a token, held-back text or not
    EXPECT_EQ(streamed.closing["finish_reason"], "stop");
    EXPECT_EQ(streamed.closing["stop_reason"], matched);
    EXPECT_EQ(streamed.usage["completion_tokens"], tokens);

    auto whole = whole_answer(sim, chat(), request);
    EXPECT_EQ(whole_text(whole), full.substr(0, at));
    EXPECT_EQ(whole["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(whole["choices"][0]["stop_reason"], matched);
    EXPECT_EQ(whole["usage"]["completion_tokens"], tokens);
  }
}

// Until the end, a stream never has the last max(len(stop)) - 1 bytes of what was generated;
// a stop string that never occurs lets the answer run to its length, its text whole.
TEST_P(SimStopStrings, AStreamHoldsBackWhatCouldBeginAStopString) {
  SimProcess sim(kStopEngine);
  auto reference = stream_answer(sim, path_of(chat()), stop_request(chat()));
  auto request = stop_request(chat());
  request["stop"] = {"#", "no such text"};  // 11 bytes held back
  auto streamed = stream_answer(sim, path_of(chat()), request);
  ASSERT_EQ(streamed.texts.size(), reference.texts.size());
  std::size_t generated = 0, sent = 0;
  for (std::size_t i = 0; i + 1 < streamed.texts.size(); ++i) {
    generated += reference.texts[i].size();
    sent += streamed.texts[i].size();
    EXPECT_EQ(sent, generated > 11 ? generated - 11 : 0) << "after token " << i;
  }
  EXPECT_EQ(streamed.text(), reference.text());
  EXPECT_EQ(streamed.ids, reference.ids);
  EXPECT_EQ(streamed.closing["finish_reason"], "length");
  EXPECT_TRUE(streamed.closing["stop_reason"].is_null());
}

TEST_P(SimStopStrings, IncludeStopStrInOutputKeepsTheString) {
  SimProcess sim(kStopEngine);
  auto reference = stream_answer(sim, path_of(chat()), stop_request(chat()));
  const std::string full = reference.text();
  std::string stop = reference.texts[6].substr(0, 3);
  auto request = stop_request(chat());
  request["stop"] = stop;
  request["include_stop_str_in_output"] = true;
  std::size_t end = full.find(stop) + stop.size();
  auto streamed = stream_answer(sim, path_of(chat()), request);
  EXPECT_EQ(streamed.text(), full.substr(0, end));
  EXPECT_EQ(streamed.ids.size(), tokens_to_reach(reference.texts, end));
  EXPECT_EQ(whole_text(whole_answer(sim, chat(), request)), full.substr(0, end));
}

// vLLM does not look for stop strings before the answer has min_tokens tokens: a word that
// occurs only in the first two tokens never ends it.
TEST_P(SimStopStrings, NotBeforeMinTokens) {
  SimProcess sim(kStopEngine);
  auto reference = stream_answer(sim, path_of(chat()), stop_request(chat()));
  const std::string full = reference.text();
  const std::string& word = reference.texts[1];
  ASSERT_EQ(full.find(word, reference.texts[0].size() + 1), std::string::npos)
      << "the word comes again";
  auto request = stop_request(chat());
  request["stop"] = word;
  request["min_tokens"] = 2;
  auto streamed = stream_answer(sim, path_of(chat()), request);
  EXPECT_EQ(streamed.text(), full);
  EXPECT_EQ(streamed.closing["finish_reason"], "length");
  request["min_tokens"] = 1;  // token 2 is past min_tokens: it ends there
  EXPECT_EQ(whole_text(whole_answer(sim, chat(), request)), reference.texts[0]);
}

INSTANTIATE_TEST_SUITE_P(Apis, SimStopStrings, ::testing::Values("completions", "chat"));

// The latency model (no --profile) knows its words in advance (" tok0 tok1 ..."): a stop string
// ends them the same way, timed or written at once.
TEST(SimStopStringsLatencyModel, EndTheAnswerTheSameWay) {
  for (auto flags :
       {std::vector<std::string>{"--ttft-ms", "2", "--tpot-ms", "2"}, std::vector<std::string>{}}) {
    SimProcess sim(flags);
    json request = {{"prompt", "x"}, {"max_tokens", 8}, {"stop", {" tok3", "never again"}}};
    auto streamed = stream_answer(sim, "/v1/completions", request, false);
    EXPECT_EQ(streamed.text(), " tok0 tok1 tok2");
    // 10 bytes held back: nothing with the first two tokens, the rest with the last.
    EXPECT_EQ(streamed.texts, (std::vector<std::string>{"", "", " tok0", " tok1 tok2"}));
    EXPECT_EQ(streamed.closing["stop_reason"], " tok3");
    EXPECT_EQ(streamed.usage["completion_tokens"], 4);
    auto whole = json::parse(sim.post("/v1/completions", request.dump()).body());
    EXPECT_EQ(whole["choices"][0]["text"], " tok0 tok1 tok2");
    EXPECT_EQ(whole["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(whole["usage"]["completion_tokens"], 4);
  }
}

// Without `stop`, answers are as they were: no stop_reason.
TEST(SimStopStringsLatencyModel, WithoutStopNoStopReason) {
  SimProcess sim({});
  auto whole =
      json::parse(sim.post("/v1/completions", R"({"prompt": "x", "max_tokens": 2})").body());
  EXPECT_FALSE(whole["choices"][0].contains("stop_reason")) << whole.dump();
  EXPECT_EQ(whole["choices"][0]["text"], " tok0 tok1");
}

}  // namespace
}  // namespace duet::test
