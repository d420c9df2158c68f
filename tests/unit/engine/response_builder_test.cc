#include "sim/response_builder.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "duet/common/line_splitter.h"

namespace duet::sim {
namespace {

using nlohmann::json;

const Ending kEnding{3, "length", Usage{5, 3}};

ResponseBuilder builder(Api api) { return ResponseBuilder(api, "id-1", 1700000000, "\"m\\\"x\""); }

// The JSON of every `data:` event in an SSE text, and whether it ended with [DONE].
std::pair<std::vector<json>, bool> events_of(const std::string& sse) {
  std::vector<json> events;
  bool done = false;
  LineSplitter lines;
  for (const auto& line : lines.feed(sse)) {
    if (line.empty()) continue;
    EXPECT_TRUE(line.starts_with("data: ")) << line;
    EXPECT_FALSE(done) << "event after [DONE]";
    if (line == "data: [DONE]")
      done = true;
    else
      events.push_back(json::parse(line.substr(6)));
  }
  return {events, done};
}

void expect_usage(const json& usage) {
  EXPECT_EQ(usage["prompt_tokens"], 5);
  EXPECT_EQ(usage["completion_tokens"], 3);
  EXPECT_EQ(usage["total_tokens"], 8);
}

TEST(ResponseBuilder, TokensAreShortNumberedWords) {
  EXPECT_EQ(token_text(0), " tok0");
  EXPECT_EQ(token_text(42), " tok42");
}

TEST(ResponseBuilder, IdsCarryTheOpenAiPrefix) {
  EXPECT_EQ(response_id(Api::completions, 0xab), "cmpl-00000000000000ab");
  EXPECT_EQ(response_id(Api::chat, 1), "chatcmpl-0000000000000001");
}

TEST(ResponseBuilder, WholeCompletion) {
  auto body = json::parse(builder(Api::completions).whole(kEnding));
  EXPECT_EQ(body["id"], "id-1");
  EXPECT_EQ(body["object"], "text_completion");
  EXPECT_EQ(body["created"], 1700000000);
  EXPECT_EQ(body["model"], "m\"x");
  ASSERT_EQ(body["choices"].size(), 1u);
  EXPECT_EQ(body["choices"][0]["index"], 0);
  EXPECT_EQ(body["choices"][0]["text"], " tok0 tok1 tok2");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "length");
  expect_usage(body["usage"]);
}

TEST(ResponseBuilder, WholeChatCompletion) {
  auto body = json::parse(builder(Api::chat).whole({2, "stop", Usage{5, 3}}));
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(body["choices"][0]["message"]["content"], " tok0 tok1");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
}

TEST(ResponseBuilder, StreamedCompletion) {
  auto [events, done] = events_of(builder(Api::completions).sse_events(0, 3, kEnding));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_TRUE(done);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(events[i]["object"], "text_completion");
    EXPECT_EQ(events[i]["choices"][0]["text"], token_text(i));
    EXPECT_TRUE(events[i]["choices"][0]["finish_reason"].is_null());
    EXPECT_FALSE(events[i].contains("usage"));
  }
  EXPECT_EQ(events[3]["choices"][0]["text"], "");
  EXPECT_EQ(events[3]["choices"][0]["finish_reason"], "length");
  expect_usage(events[3]["usage"]);
}

TEST(ResponseBuilder, StreamedChatSendsTheRoleOnce) {
  auto [events, done] = events_of(builder(Api::chat).sse_events(0, 3, kEnding));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_TRUE(done);
  EXPECT_EQ(events[0]["object"], "chat.completion.chunk");
  EXPECT_EQ(events[0]["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(events[0]["choices"][0]["delta"]["content"], " tok0");
  EXPECT_FALSE(events[1]["choices"][0]["delta"].contains("role"));
  EXPECT_EQ(events[2]["choices"][0]["delta"]["content"], " tok2");
  EXPECT_EQ(events[3]["choices"][0]["delta"], json::object());
  EXPECT_EQ(events[3]["choices"][0]["finish_reason"], "length");
  expect_usage(events[3]["usage"]);
}

// stream_options.include_usage, as vLLM and OpenAI send it: the closing chunk has no usage,
// one more chunk with empty `choices` carries it, then [DONE].
TEST(ResponseBuilder, IncludeUsageSendsAUsageChunkOfItsOwn) {
  for (Api api : {Api::chat, Api::completions}) {
    ResponseBuilder b(api, "id-1", 1700000000, "\"m\"", StreamUsage::own_chunk);
    Ending ending = kEnding;
    ending.usage.cached_tokens = 2;
    auto [events, done] = events_of(b.sse_events(0, 3, ending));
    ASSERT_EQ(events.size(), 5u);
    EXPECT_TRUE(done);
    for (int i = 0; i < 4; ++i) EXPECT_FALSE(events[i].contains("usage")) << events[i].dump();
    EXPECT_EQ(events[3]["choices"][0]["finish_reason"], "length");
    const json& usage = events[4];
    EXPECT_EQ(usage["id"], "id-1");
    EXPECT_EQ(usage["object"], api == Api::chat ? "chat.completion.chunk" : "text_completion");
    EXPECT_EQ(usage["model"], "m");
    EXPECT_EQ(usage["choices"], json::array());
    expect_usage(usage["usage"]);
    EXPECT_EQ(usage["usage"]["prompt_tokens_details"]["cached_tokens"], 2);
  }
}

TEST(ResponseBuilder, IncludeUsageFalseSendsNoUsage) {
  ResponseBuilder b(Api::chat, "id-1", 1700000000, "\"m\"", StreamUsage::none);
  auto [events, done] = events_of(b.sse_events(0, 3, kEnding));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_TRUE(done);
  for (const auto& e : events) EXPECT_FALSE(e.contains("usage")) << e.dump();
  EXPECT_EQ(events[3]["choices"][0]["finish_reason"], "length");
}

// return_token_ids, where vLLM puts them: a completion's choice carries prompt_token_ids
// (first chunk) and token_ids; a chat's prompt_token_ids sit beside `choices`.
TEST(ResponseBuilder, TokenIdsGoWhereVllmPutsThem) {
  auto completion = builder(Api::completions);
  completion.return_token_ids({7, 8});
  auto first = json::parse(completion.text_chunk(" a", true, 42));
  EXPECT_EQ(first["choices"][0]["prompt_token_ids"], json({7, 8}));
  EXPECT_EQ(first["choices"][0]["token_ids"], json({42}));
  auto next = json::parse(completion.text_chunk(" b", false, 43));
  EXPECT_FALSE(next["choices"][0].contains("prompt_token_ids"));
  EXPECT_EQ(next["choices"][0]["token_ids"], json({43}));

  auto chat = builder(Api::chat);
  chat.return_token_ids({7});
  auto chat_first = json::parse(chat.text_chunk(" a", true, 42));
  EXPECT_EQ(chat_first["prompt_token_ids"], json({7}));
  EXPECT_EQ(chat_first["choices"][0]["token_ids"], json({42}));
  EXPECT_EQ(chat_first["choices"][0]["delta"]["content"], " a");

  auto without = json::parse(builder(Api::completions).text_chunk(" a", true, 42));
  EXPECT_FALSE(without["choices"][0].contains("token_ids"));  // not asked for
}

TEST(ResponseBuilder, APartOfTheStreamHasNoEnding) {
  auto b = builder(Api::chat);
  auto [first, first_done] = events_of(b.sse_events(0, 1, kEnding));
  EXPECT_EQ(first.size(), 1u);
  EXPECT_FALSE(first_done);
  auto [rest, rest_done] = events_of(b.sse_events(1, 3, kEnding));
  EXPECT_EQ(rest.size(), 3u);
  EXPECT_TRUE(rest_done);
}

}  // namespace
}  // namespace duet::sim
