#include "sim/request_parser.h"

#include <gtest/gtest.h>

namespace duet::sim {
namespace {

const RequestLimits kLimits{"duet-sim", 16, 1000};

InferenceRequest valid(Api api, std::string_view body) {
  auto result = parse_request(api, body, kLimits);
  if (auto* error = std::get_if<RequestError>(&result)) {
    ADD_FAILURE() << "unexpected error: " << error->message;
    return {};
  }
  return std::get<InferenceRequest>(result);
}

RequestError invalid(Api api, std::string_view body) {
  auto result = parse_request(api, body, kLimits);
  if (auto* error = std::get_if<RequestError>(&result)) return *error;
  ADD_FAILURE() << "accepted: " << body;
  return {};
}

// Checks status, param and the whole message of the error `body` raises.
void expect_error(Api api, std::string_view body, int status, std::string_view param,
                  std::string_view message) {
  SCOPED_TRACE(body);
  auto error = invalid(api, body);
  EXPECT_EQ(error.status, status);
  EXPECT_EQ(error.param, param);
  EXPECT_EQ(error.message, message);
}

TEST(RequestParser, CompletionWithDefaults) {
  auto r = valid(Api::completions, R"({"prompt": "hello world!"})");
  EXPECT_EQ(r.api, Api::completions);
  EXPECT_FALSE(r.stream);
  EXPECT_EQ(r.max_tokens, 16u);
  EXPECT_FALSE(r.max_tokens_given);
  EXPECT_EQ(r.prompt_tokens, 3u);  // 12 ASCII bytes, 4 a token
}

TEST(RequestParser, CompletionHonoursItsFields) {
  auto r = valid(Api::completions,
                 R"({"model": "duet-sim", "prompt": ["abcd", "efgh"], "max_tokens": 7,
                     "stream": true, "temperature": 0.2, "n": 1})");
  EXPECT_TRUE(r.stream);
  EXPECT_EQ(r.max_tokens, 7u);
  EXPECT_TRUE(r.max_tokens_given);
  EXPECT_EQ(r.prompt_tokens, 2u);
}

TEST(RequestParser, NullFieldsMeanAbsent) {
  auto r = valid(Api::completions,
                 R"({"model": null, "prompt": "x", "max_tokens": null, "stream": null})");
  EXPECT_FALSE(r.stream);
  EXPECT_EQ(r.max_tokens, 16u);
}

TEST(RequestParser, ChatWithPartsAndMaxCompletionTokens) {
  auto r = valid(Api::chat, R"({"messages": [
      {"role": "system", "content": "abcd"},
      {"role": "user", "content": [{"type": "text", "text": "efghijkl"}, {"type": "image_url"}]},
      {"role": "assistant", "content": null}],
    "max_tokens": 3, "max_completion_tokens": 5})");
  EXPECT_EQ(r.api, Api::chat);
  EXPECT_EQ(r.max_tokens, 5u);
  EXPECT_EQ(r.prompt_tokens, 3u);
}

TEST(RequestParser, BodyMustBeUtf8Json) {
  expect_error(Api::completions, "{\"prompt\": \"\xC3\x28\"}", 400, "",
               "request body is not valid UTF-8 (byte 12)");
  auto error = invalid(Api::completions, R"({"prompt": )");
  EXPECT_EQ(error.status, 400);
  EXPECT_EQ(error.param, "");
  EXPECT_TRUE(error.message.starts_with("request body is not valid JSON: ")) << error.message;
  EXPECT_TRUE(invalid(Api::chat, "").message.starts_with("request body is not valid JSON: "));
  expect_error(Api::completions, R"(["prompt"])", 400, "", "request body must be a JSON object");
}

// Valid JSON syntax that nlohmann still refuses (out_of_range 406) names the field; it used
// to throw out of parse_request (issue 15).
TEST(RequestParser, NumberPastDoubleNamesTheField) {
  expect_error(Api::completions, R"({"prompt":"x","max_tokens":1e309})", 400, "max_tokens",
               "max_tokens: number overflow parsing '1e309'");
  expect_error(Api::chat, R"({"messages":[{"role":"user"},{"role":"user","content":-1e999}]})",
               400, "messages[1].content", "messages[1].content: number overflow parsing '-1e999'");
  expect_error(Api::completions, R"({"prompt":["a",[1,2e400]]})", 400, "prompt[1][1]",
               "prompt[1][1]: number overflow parsing '2e400'");
  expect_error(Api::completions, "1e309", 400, "", "request body: number overflow parsing '1e309'");
}

TEST(RequestParser, PromptIsRequiredAndTyped) {
  expect_error(Api::completions, R"({"max_tokens": 3})", 400, "prompt", "prompt: required");
  expect_error(Api::completions, R"({"prompt": 12})", 400, "prompt",
               "prompt: expected a string or a non-empty array of strings or of token ids, got 12");
  expect_error(Api::completions, R"({"prompt": []})", 400, "prompt",
               "prompt: expected a string or a non-empty array of strings or of token ids, got an array");
  expect_error(Api::completions, R"({"prompt": ["a", {"b": 1}]})", 400, "prompt[1]",
               "prompt[1]: expected a string, got an object");
}

// Token ids, as vLLM takes them (duet-router's exact continuation sends them): counted with
// the latency model, kept with the engine model; every one a valid id.
TEST(RequestParser, PromptMayBeTokenIds) {
  auto counted = valid(Api::completions, R"({"prompt": [5, 17, 99, 0], "return_token_ids": true})");
  EXPECT_EQ(counted.prompt_tokens, 4u);
  EXPECT_TRUE(counted.prompt_ids.empty());
  EXPECT_FALSE(counted.return_token_ids);  // only the engine model has ids to return

  RequestLimits engine = kLimits;
  engine.tokenize = true;
  engine.token_ids = true;
  auto kept = std::get<InferenceRequest>(parse_request(Api::completions, R"({"prompt": [5, 17, 99], "return_token_ids": true})", engine));
  EXPECT_EQ(kept.prompt_ids, (std::vector<uint32_t>{5, 17, 99}));
  EXPECT_EQ(kept.prompt_tokens, 3u);
  EXPECT_TRUE(kept.return_token_ids);
  engine.token_ids = false;  // --token-ids off
  EXPECT_FALSE(std::get<InferenceRequest>(parse_request(Api::completions, R"({"prompt": [5], "return_token_ids": true})", engine)).return_token_ids);

  expect_error(Api::completions, R"({"prompt": [5, -1]})", 400, "prompt[1]",
               "prompt[1]: expected a token id from 0 to 131071, got -1");
  expect_error(Api::completions, R"({"prompt": [5, 131072]})", 400, "prompt[1]",
               "prompt[1]: expected a token id from 0 to 131071, got 131072");
  expect_error(Api::completions, R"({"prompt": [5, "six"]})", 400, "prompt[1]",
               "prompt[1]: expected a token id from 0 to 131071, got \"six\"");
  expect_error(Api::completions, R"({"prompt": "x", "return_token_ids": 1})", 400, "return_token_ids",
               "return_token_ids: expected a boolean, got 1");
}

TEST(RequestParser, MessagesAreRequiredAndTyped) {
  expect_error(Api::chat, R"({"prompt": "x"})", 400, "messages", "messages: required");
  expect_error(Api::chat, R"({"messages": "hi"})", 400, "messages",
               "messages: expected a non-empty array, got \"hi\"");
  expect_error(Api::chat, R"({"messages": []})", 400, "messages",
               "messages: expected a non-empty array, got an array");
  expect_error(Api::chat, R"({"messages": [{"role": "user", "content": "a"}, 3]})", 400,
               "messages[1]", "messages[1]: expected an object, got 3");
  expect_error(Api::chat, R"({"messages": [{"content": "a"}]})", 400, "messages[0].role",
               "messages[0].role: required");
  expect_error(Api::chat, R"({"messages": [{"role": true, "content": "a"}]})", 400,
               "messages[0].role", "messages[0].role: expected a string, got true");
  expect_error(Api::chat, R"({"messages": [{"role": "user", "content": 5}]})", 400,
               "messages[0].content",
               "messages[0].content: expected a string, an array of parts or null, got 5");
  expect_error(Api::chat, R"({"messages": [{"role": "user", "content": ["hi"]}]})", 400,
               "messages[0].content[0]", "messages[0].content[0]: expected an object, got \"hi\"");
  expect_error(Api::chat, R"({"messages": [{"role": "user", "content": [{"text": "hi"}]}]})", 400,
               "messages[0].content[0].type",
               "messages[0].content[0].type: expected a string, got null");
  expect_error(
      Api::chat, R"({"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]})",
      400, "messages[0].content[0].text", "messages[0].content[0].text: expected a string, got 1");
}

TEST(RequestParser, MaxTokensMustBeAPositiveInteger) {
  for (std::string value : {"0", "-1", "1.5", "\"10\"", "true", "[3]"}) {
    auto error = invalid(Api::completions, R"({"prompt": "x", "max_tokens": )" + value + "}");
    EXPECT_EQ(error.status, 400);
    EXPECT_EQ(error.param, "max_tokens");
    EXPECT_TRUE(error.message.starts_with("max_tokens: expected a positive integer, got "))
        << error.message;
  }
  expect_error(Api::chat, R"({"messages": [{"role": "user"}], "max_completion_tokens": 0})", 400,
               "max_completion_tokens",
               "max_completion_tokens: expected a positive integer, got 0");
}

TEST(RequestParser, StreamMustBeABoolean) {
  expect_error(Api::completions, R"({"prompt": "x", "stream": "yes"})", 400, "stream",
               "stream: expected a boolean, got \"yes\"");
  expect_error(Api::chat, R"({"messages": [{"role": "user"}], "stream": 1})", 400, "stream",
               "stream: expected a boolean, got 1");
}

TEST(RequestParser, StreamOptionsAsVllmReadsThem) {
  constexpr std::string_view kStream = R"({"prompt": "x", "stream": true)";
  auto with = [&](std::string_view rest) { return std::string(kStream) + std::string(rest) + "}"; };
  EXPECT_FALSE(valid(Api::completions, with("")).include_usage.has_value());
  EXPECT_FALSE(valid(Api::completions, with(R"(, "stream_options": null)")).include_usage.has_value());
  EXPECT_EQ(valid(Api::completions, with(R"(, "stream_options": {"include_usage": true})")).include_usage, true);
  EXPECT_EQ(valid(Api::completions, with(R"(, "stream_options": {"include_usage": false})")).include_usage, false);
  // vLLM's StreamOptions: include_usage defaults to true once stream_options is given.
  EXPECT_EQ(valid(Api::chat, R"({"messages": [{"role": "user", "content": "x"}], "stream": true,
                                 "stream_options": {}})")
                .include_usage,
            true);
  expect_error(Api::completions, R"({"prompt": "x", "stream_options": {"include_usage": true}})", 400,
               "stream_options", "Stream options can only be defined when `stream=True`.");
  expect_error(Api::completions, R"({"prompt": "x", "stream": false, "stream_options": {}})", 400,
               "stream_options", "Stream options can only be defined when `stream=True`.");
  expect_error(Api::completions, with(R"(, "stream_options": 1)"), 400, "stream_options",
               "stream_options: expected an object or null, got 1");
  expect_error(Api::chat, R"({"messages": [{"role": "user", "content": "x"}], "stream": true,
                              "stream_options": {"include_usage": "yes"}})",
               400, "stream_options.include_usage", "stream_options.include_usage: expected a boolean, got \"yes\"");
}

TEST(RequestParser, UnknownModelIsNotFoundLikeVllm) {
  expect_error(Api::completions, R"({"prompt": "x", "model": "gpt-4"})", 404, "model",
               "The model `gpt-4` does not exist.");
  expect_error(Api::completions, R"({"prompt": "x", "model": 4})", 400, "model",
               "model: expected a string, got 4");
}

TEST(RequestParser, OnlyOneChoice) {
  expect_error(Api::completions, R"({"prompt": "x", "n": 2})", 400, "n",
               "n: expected 1 (duet-sim generates one choice), got 2");
}

TEST(RequestParser, PromptAndOutputMustFitTheContext) {
  std::string long_prompt(4000, 'a');  // 1000 tokens: the whole context
  expect_error(Api::completions, R"({"prompt": "x", "max_tokens": 1000})", 400, "max_tokens",
               "This model's maximum context length is 1000 tokens. However, you requested 1001 "
               "tokens (1 in the prompt, 1000 in the completion). Please reduce the length of "
               "the prompt or completion.");
  auto error = invalid(Api::completions, R"({"prompt": ")" + long_prompt + R"("})");
  EXPECT_EQ(error.param, "prompt");
  // Without max_tokens, the default output shrinks to what is left.
  auto r = valid(Api::completions, R"({"prompt": ")" + long_prompt.substr(8) + R"("})");
  EXPECT_EQ(r.prompt_tokens, 998u);
  EXPECT_EQ(r.max_tokens, 2u);
}

// vLLM's stop strings: a string or a list (up to 4 here, as OpenAI), each non-empty.
TEST(RequestParser, StopStringsAsVllmTakesThem) {
  EXPECT_TRUE(valid(Api::completions, R"({"prompt": "x"})").stop.strings.empty());
  EXPECT_TRUE(valid(Api::completions, R"({"prompt": "x", "stop": null})").stop.strings.empty());
  EXPECT_EQ(valid(Api::completions, R"({"prompt": "x", "stop": "\n"})").stop.strings,
            std::vector<std::string>{"\n"});
  auto r = valid(Api::chat, R"({"messages": [{"role": "user"}], "stop": ["a", "bc"],
                                "include_stop_str_in_output": true})");
  EXPECT_EQ(r.stop.strings, (std::vector<std::string>{"a", "bc"}));
  EXPECT_TRUE(r.stop.include_in_output);
  EXPECT_FALSE(valid(Api::completions, R"({"prompt": "x", "stop": []})").stop.include_in_output);
  expect_error(Api::completions, R"({"prompt": "x", "stop": 1})", 400, "stop",
               "stop: expected a non-empty string or an array of up to 4 of them, got 1");
  expect_error(Api::completions, R"({"prompt": "x", "stop": ""})", 400, "stop",
               "stop: expected a non-empty string or an array of up to 4 of them, got \"\"");
  expect_error(Api::completions, R"({"prompt": "x", "stop": ["a", "b", "c", "d", "e"]})", 400,
               "stop",
               "stop: expected a non-empty string or an array of up to 4 of them, got an array");
  expect_error(Api::chat, R"({"messages": [{"role": "user"}], "stop": ["a", 2]})", 400, "stop[1]",
               "stop[1]: expected a non-empty string, got 2");
  expect_error(Api::completions, R"({"prompt": "x", "stop": ["a", ""]})", 400, "stop[1]",
               "stop[1]: expected a non-empty string, got \"\"");
  expect_error(Api::completions, R"({"prompt": "x", "include_stop_str_in_output": "no"})", 400,
               "include_stop_str_in_output",
               "include_stop_str_in_output: expected a boolean, got \"no\"");
}

// vLLM's min_tokens: an integer from 0 to max_tokens (the default one when none is given).
TEST(RequestParser, MinTokensFitsMaxTokens) {
  EXPECT_EQ(valid(Api::completions, R"({"prompt": "x"})").stop.min_tokens, 0u);
  EXPECT_EQ(valid(Api::completions, R"({"prompt": "x", "max_tokens": 5, "min_tokens": 5})")
                .stop.min_tokens,
            5u);
  EXPECT_EQ(valid(Api::completions, R"({"prompt": "x", "min_tokens": 16})").stop.min_tokens, 16u);
  expect_error(Api::completions, R"({"prompt": "x", "max_tokens": 5, "min_tokens": 6})", 400,
               "min_tokens", "min_tokens: expected an integer from 0 to max_tokens (5), got 6");
  for (std::string value : {"-1", "1.5", "\"2\"", "true"}) {
    auto error =
        invalid(Api::chat, R"({"messages": [{"role": "user"}], "min_tokens": )" + value + "}");
    EXPECT_EQ(error.param, "min_tokens") << value;
  }
}

// A prefill, as vLLM takes it: continue_final_message needs add_generation_prompt false (it
// defaults to true) and, here, a final message of the assistant's.
TEST(RequestParser, ContinueFinalMessageAsVllmTakesIt) {
  constexpr std::string_view kPrefill = R"({"messages": [{"role": "user", "content": "x"},
                                                        {"role": "assistant", "content": "y"}])";
  auto with = [&](std::string_view rest) {
    return std::string(kPrefill) + std::string(rest) + "}";
  };
  auto r =
      valid(Api::chat, with(R"(, "continue_final_message": true, "add_generation_prompt": false)"));
  EXPECT_TRUE(r.chat_render.continue_final_message);
  EXPECT_FALSE(r.chat_render.add_generation_prompt);
  auto plain = valid(Api::chat, with(""));
  EXPECT_FALSE(plain.chat_render.continue_final_message);
  EXPECT_TRUE(plain.chat_render.add_generation_prompt);
  EXPECT_FALSE(valid(Api::chat, with(R"(, "add_generation_prompt": false)"))
                   .chat_render.add_generation_prompt);
  expect_error(Api::chat, with(R"(, "continue_final_message": true)"), 400,
               "continue_final_message",
               "Cannot set both `continue_final_message` and `add_generation_prompt` to True.");
  expect_error(
      Api::chat,
      R"({"messages": [{"role": "user", "content": "x"}], "continue_final_message": true,
                   "add_generation_prompt": false})",
      400, "continue_final_message",
      "continue_final_message: the final message must have role \"assistant\", got \"user\"");
  expect_error(Api::chat, with(R"(, "continue_final_message": 1)"), 400, "continue_final_message",
               "continue_final_message: expected a boolean, got 1");
  expect_error(Api::chat, with(R"(, "add_generation_prompt": "no")"), 400, "add_generation_prompt",
               "add_generation_prompt: expected a boolean, got \"no\"");
}

}  // namespace
}  // namespace duet::sim
