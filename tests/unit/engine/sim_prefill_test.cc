// A prefill in duet-sim, as a process: a chat whose final assistant message is the first k
// words of an answer (continue_final_message), or a completion prompt followed by those words
// as text, goes on with that answer from word k on, ids and text alike (what migration's text
// fallback relies on); and vLLM's /tokenize and /detokenize give the ids the prompts have.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/sim_process.h"
#include "unit/engine/sim_streamed_answer.h"

namespace duet::test {
namespace {

using nlohmann::json;

const std::vector<std::string> kPrefillEngine = {"--profile", "nvidia-h100", "--time-scale", "100"};
constexpr std::size_t kPrefillTokens = 10;
const json kPrefillChat =
    json::array({{{"role", "system"}, {"content", "Answer in words."}},
                 {{"role", "user"}, {"content", "What moves when an engine dies?"}}});

std::string first_words(const StreamedAnswer& answer, std::size_t k) {
  std::string text;
  for (std::size_t i = 0; i < k; ++i) text += answer.texts[i];
  return text;
}

template <typename T>
std::vector<T> from(const std::vector<T>& all, std::size_t k) {
  return std::vector<T>(all.begin() + static_cast<std::ptrdiff_t>(k), all.end());
}

TEST(SimPrefill, AChatContinuingItsFinalMessageGoesOnWithTheAnswer) {
  SimProcess sim(kPrefillEngine);
  auto reference = stream_answer(sim, "/v1/chat/completions",
                                 {{"messages", kPrefillChat}, {"max_tokens", kPrefillTokens}});
  ASSERT_EQ(reference.ids.size(), kPrefillTokens);
  for (std::size_t k : {std::size_t{0}, std::size_t{1}, kPrefillTokens / 2, kPrefillTokens - 1}) {
    json messages = kPrefillChat;
    messages.push_back({{"role", "assistant"}, {"content", first_words(reference, k)}});
    auto rest = stream_answer(sim, "/v1/chat/completions",
                              {{"messages", messages},
                               {"continue_final_message", true},
                               {"add_generation_prompt", false},
                               {"max_tokens", kPrefillTokens - k}});
    auto prompt = reference.prompt_ids;
    prompt.insert(prompt.end(), reference.ids.begin(),
                  reference.ids.begin() + static_cast<std::ptrdiff_t>(k));
    EXPECT_EQ(rest.prompt_ids, prompt) << "k=" << k;
    EXPECT_EQ(rest.ids, from(reference.ids, k)) << "k=" << k;
    EXPECT_EQ(rest.texts, from(reference.texts, k)) << "k=" << k;
    EXPECT_TRUE(rest.done);
  }
}

TEST(SimPrefill, ACompletionPromptWithItsAnswersFirstWordsGoesOnWithTheRest) {
  SimProcess sim(kPrefillEngine);
  for (std::string prompt : {"Where does a canary's traffic go?", "ends with a space ", "x"}) {
    auto reference =
        stream_answer(sim, "/v1/completions", {{"prompt", prompt}, {"max_tokens", kPrefillTokens}});
    ASSERT_EQ(reference.ids.size(), kPrefillTokens);
    for (std::size_t k : {std::size_t{1}, kPrefillTokens / 2, kPrefillTokens - 1}) {
      auto rest = stream_answer(
          sim, "/v1/completions",
          {{"prompt", prompt + first_words(reference, k)}, {"max_tokens", kPrefillTokens - k}});
      EXPECT_EQ(rest.ids, from(reference.ids, k)) << prompt << " k=" << k;
      EXPECT_EQ(rest.texts, from(reference.texts, k)) << prompt << " k=" << k;
    }
  }
}

TEST(SimPrefill, ContinueFinalMessageIsRefusedAsVllmRefusesIt) {
  SimProcess sim(kPrefillEngine);
  json with_default = {{"messages", kPrefillChat}, {"continue_final_message", true}};
  auto res =
      sim.post("/v1/chat/completions", with_default.dump());  // add_generation_prompt is true
  EXPECT_EQ(res.result_int(), 400) << res.body();
  EXPECT_EQ(json::parse(res.body())["error"]["param"], "continue_final_message");
  with_default["add_generation_prompt"] = false;  // and the final message is the user's
  res = sim.post("/v1/chat/completions", with_default.dump());
  EXPECT_EQ(res.result_int(), 400) << res.body();
  EXPECT_EQ(json::parse(res.body())["error"]["param"], "continue_final_message");
}

json posted_json(SimProcess& sim, std::string_view path, const json& body, int status = 200) {
  auto res = sim.post(path, body.dump());
  EXPECT_EQ(res.result_int(), status) << res.body();
  return json::parse(res.body());
}

TEST(SimTokenizeEndpoints, GiveTheIdsOfAnInferenceRequestsPromptAndTheAnswersTextBack) {
  SimProcess sim(kPrefillEngine);
  auto completion = stream_answer(sim, "/v1/completions",
                                  {{"prompt", "Tokenize me, please."}, {"max_tokens", 6}});
  auto tokens =
      posted_json(sim, "/tokenize", {{"model", "duet-sim"}, {"prompt", "Tokenize me, please."}});
  EXPECT_EQ(tokens["tokens"], json(completion.prompt_ids));
  EXPECT_EQ(tokens["count"], completion.prompt_ids.size());
  EXPECT_EQ(tokens["max_model_len"], 32768);

  auto chat =
      stream_answer(sim, "/v1/chat/completions", {{"messages", kPrefillChat}, {"max_tokens", 2}});
  EXPECT_EQ(posted_json(sim, "/tokenize", {{"messages", kPrefillChat}})["tokens"],
            json(chat.prompt_ids));
  // Without the generation prompt (<start> assistant) the rendering ends two ids sooner.
  auto bare =
      posted_json(sim, "/tokenize", {{"messages", kPrefillChat}, {"add_generation_prompt", false}});
  EXPECT_EQ(bare["tokens"],
            json(std::vector<uint32_t>(chat.prompt_ids.begin(), chat.prompt_ids.end() - 2)));

  EXPECT_EQ(posted_json(sim, "/detokenize", {{"model", "duet-sim"}, {"tokens", completion.ids}}),
            json({{"prompt", completion.text()}}));
  auto bad = posted_json(sim, "/detokenize", {{"tokens", {completion.ids[0], 1 << 17}}}, 400);
  EXPECT_EQ(bad["error"]["param"], "tokens[1]");
  auto other = posted_json(sim, "/tokenize", {{"model", "gpt-4"}, {"prompt", "x"}}, 404);
  EXPECT_EQ(other["error"]["message"], "The model `gpt-4` does not exist.");
  EXPECT_EQ(sim.get("/tokenize").result_int(), 405);
}

TEST(SimTokenizeEndpoints, WithoutTheEngineModelAreNotFound) {
  SimProcess sim({});
  for (std::string_view path : {"/tokenize", "/detokenize"}) {
    auto error = posted_json(sim, path, {{"prompt", "x"}, {"tokens", {1}}}, 404);
    EXPECT_NE(error["error"]["message"].get<std::string>().find("--profile"), std::string::npos)
        << error.dump();
  }
}

}  // namespace
}  // namespace duet::test
