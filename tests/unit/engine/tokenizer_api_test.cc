// vLLM's /tokenize and /detokenize over duet-sim's tokenizer, by hand: a prompt or a chat to
// ids (the same ids an inference request's prompt has), answer words back to text, and the
// fields' errors.
#include "sim/tokenizer_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sim/model/answer_words.h"
#include "sim/model/chat_template.h"
#include "sim/model/tokenizer.h"

namespace duet::sim {
namespace {

using nlohmann::json;

const RequestLimits kTokenizerLimits{"duet-sim", 16, 4096, true, true};

json answer_json(const TokenizerAnswer& answer) {
  if (auto* error = std::get_if<RequestError>(&answer)) {
    ADD_FAILURE() << "unexpected error: " << error->message;
    return {};
  }
  return json::parse(std::get<std::string>(answer));
}

RequestError answer_error(const TokenizerAnswer& answer) {
  if (auto* error = std::get_if<RequestError>(&answer)) return *error;
  ADD_FAILURE() << "answered: " << std::get<std::string>(answer);
  return {};
}

TEST(TokenizerApi, TokenizesAPromptAsACompletionsPrompt) {
  auto answer = answer_json(tokenize_answer(
      R"({"model": "duet-sim", "prompt": "Hello duet, hello!"})", kTokenizerLimits));
  auto ids = model::tokenize("Hello duet, hello!");
  EXPECT_EQ(answer, json({{"count", ids.size()}, {"max_model_len", 4096}, {"tokens", ids}}));
  // add_special_tokens is accepted (duet-sim's tokenizer adds none either way).
  EXPECT_EQ(answer_json(
                tokenize_answer(R"({"prompt": "Hello duet, hello!", "add_special_tokens": false})",
                                kTokenizerLimits))["tokens"],
            json(ids));
}

TEST(TokenizerApi, TokenizesMessagesThroughTheChatTemplate) {
  std::vector<model::ChatMessage> chat = {{"user", "Hi"}, {"assistant", "Hello"}};
  auto whole = answer_json(tokenize_answer(
      R"({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]})",
      kTokenizerLimits));
  EXPECT_EQ(whole["tokens"], json(model::render_chat(chat)));
  EXPECT_EQ(whole["count"], model::render_chat(chat).size());
  auto open = answer_json(tokenize_answer(
      R"({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
          "add_generation_prompt": false, "continue_final_message": true})",
      kTokenizerLimits));
  EXPECT_EQ(open["tokens"], json(model::render_chat(chat, {false, true})));
  auto refused = answer_error(tokenize_answer(
      R"({"messages": [{"role": "assistant", "content": "Hello"}], "continue_final_message": true})",
      kTokenizerLimits));
  EXPECT_EQ(refused.param, "continue_final_message");
}

TEST(TokenizerApi, TokenizeNamesTheWrongField) {
  auto no_prompt = answer_error(tokenize_answer(R"({"model": "duet-sim"})", kTokenizerLimits));
  EXPECT_EQ(no_prompt.status, 400);
  EXPECT_EQ(no_prompt.param, "prompt");
  EXPECT_EQ(answer_error(tokenize_answer(R"({"prompt": [1, 2]})", kTokenizerLimits)).param,
            "prompt");
  EXPECT_EQ(
      answer_error(tokenize_answer(R"({"messages": [{"content": "x"}]})", kTokenizerLimits)).param,
      "messages[0].role");
  auto model =
      answer_error(tokenize_answer(R"({"model": "other", "prompt": "x"})", kTokenizerLimits));
  EXPECT_EQ(model.status, 404);
  EXPECT_EQ(model.message, "The model `other` does not exist.");
  EXPECT_EQ(answer_error(tokenize_answer("[1]", kTokenizerLimits)).status, 400);
}

TEST(TokenizerApi, DetokenizeGivesTheAnswerWordsText) {
  std::vector<model::TokenId> prompt = model::tokenize("hello");
  std::vector<model::TokenId> words;
  for (int i = 0; i < 4; ++i) {
    words.push_back(model::next_token(prompt));
    prompt.push_back(words.back());
  }
  json request = {{"model", "duet-sim"}, {"tokens", words}};
  auto answer = answer_json(detokenize_answer(request.dump(), kTokenizerLimits));
  EXPECT_EQ(answer, json({{"prompt", model::detokenize(words)}}));
  EXPECT_FALSE(answer["prompt"].get<std::string>().empty());
  EXPECT_EQ(answer_json(detokenize_answer(R"({"tokens": []})", kTokenizerLimits))["prompt"], "");
}

TEST(TokenizerApi, DetokenizeRefusesAnIdOutsideTheVocabulary) {
  auto error = answer_error(detokenize_answer(R"({"tokens": [5, 131072]})", kTokenizerLimits));
  EXPECT_EQ(error.status, 400);
  EXPECT_EQ(error.param, "tokens[1]");
  EXPECT_EQ(error.message, "tokens[1]: expected a token id from 0 to 131071, got 131072");
  EXPECT_EQ(answer_error(detokenize_answer(R"({"tokens": [-1]})", kTokenizerLimits)).param,
            "tokens[0]");
  EXPECT_EQ(answer_error(detokenize_answer(R"({"tokens": "1 2"})", kTokenizerLimits)).param,
            "tokens");
  EXPECT_EQ(answer_error(detokenize_answer(R"({})", kTokenizerLimits)).param, "tokens");
  EXPECT_EQ(
      answer_error(detokenize_answer(R"({"model": "x", "tokens": []})", kTokenizerLimits)).status,
      404);
}

}  // namespace
}  // namespace duet::sim
