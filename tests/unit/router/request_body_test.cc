// RequestBody reads bodies with simdjson's On-Demand API; what it finds must be what a whole
// parse finds (nlohmann::json and duet::estimate_prompt_tokens, which duet-sim uses for its
// usage counts), field by field, for every shape of request and for broken ones.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "duet/common/token_estimate.h"
#include "router/request_body.h"

namespace duet::router {
namespace {

using nlohmann::json;

// The reference: a whole parse, as RequestBody worked before it scanned.
struct Parsed {
  bool malformed = false;
  std::string model;
  uint64_t tokens = 0;
};

Parsed parse_whole(const std::string& text) {
  Parsed p;
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return {true, {}, 0};
  p.tokens = estimate_prompt_tokens(j);
  if (!j.is_object()) return p;
  if (auto m = j.find("model"); m != j.end() && m->is_string()) p.model = *m;
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    auto it = j.find(key);
    if (it != j.end() && it->is_number_unsigned()) {
      p.tokens += it->get<uint64_t>();
      break;
    }
  }
  return p;
}

void expect_same(const std::string& text) {
  auto want = parse_whole(text);
  RequestBody body(text);
  EXPECT_EQ(body.tokens(), want.tokens) << text;
  EXPECT_EQ(body.model(), want.model) << text;
  EXPECT_EQ(body.malformed(), want.malformed) << text;
}

TEST(RequestBody, FindsWhatAWholeParseFinds) {
  std::string long_prompt;
  for (int i = 0; i < 200; ++i) long_prompt += "word " + std::to_string(i) + " 中文 ";
  const std::vector<std::string> bodies = {
      R"({"model":"deepseek-r1","prompt":"Hello duet","max_tokens":8})",
      json({{"model", "m"}, {"prompt", long_prompt}, {"max_tokens", 128}}).dump(),
      R"({"prompt":["one","two three",4,{"text":"x"}],"max_completion_tokens":3})",
      R"({"messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"你好"},"raw",{"type":"image_url"}]},7,{"content":null}]})",
      R"({"messages":[{"content":"a"}],"prompt":"bbbbbbbb"})",                  // prompt wins
      R"({"prompt":"a","prompt":"bbbbbbbbbbbbbbbbbbbbbbbb","model":"x","model":5})",  // last key wins
      R"({"max_tokens":-1,"max_completion_tokens":9,"prompt":"abcd"})",
      R"({"max_tokens":5.0,"prompt":"abcd"})",
      R"({"max_tokens":18446744073709551615,"prompt":""})",
      R"({"max_completion_tokens":2,"max_tokens":3})",
      R"({"prompt":"tab\tquote\" slash\\ uni\u00e9 pair\ud83d\ude00 ctl\u0001"})",
      R"({"m\u006fdel":"escaped-key","prompt":{"text":"not a list"}})",
      R"(  {"nested":{"a":[1,2,{"b":"c"}],"prompt":"inner is not counted"},"prompt":"x"}  )",
      R"({})",
      R"([1,2,3])",
      R"("just a string")",
      R"(42)",
      // Broken: every one is a 400 from the router.
      R"({"model":"m","prompt":"unterminated)",
      R"({"model":"m",})",
      R"({"model" "m"})",
      R"({"prompt":"x"} trailing)",
      R"({"prompt":"x"}{"prompt":"y"})",
      "{\"prompt\":\"\xff\xfe invalid utf-8\"}",
      R"({"prompt":"bad escape \q"})",
      R"({"prompt":"lone surrogate \ud800"})",
      "{\"prompt\":\"raw control \x01 char\"}",
      R"([1,2)",
      R"(nul)",
      "garbage",
  };
  for (const auto& text : bodies) expect_same(text);
}

TEST(RequestBody, AnEmptyBodyIsNoBodyNotBrokenJson) {
  RequestBody body("");
  EXPECT_EQ(body.tokens(), 0u);
  EXPECT_FALSE(body.malformed());
}

TEST(RequestBody, ABodyThatWasNotNeededIsNotJudged) {
  RequestBody body("garbage");
  EXPECT_FALSE(body.malformed());  // no decision read it
  body.model();
  EXPECT_TRUE(body.malformed());
}

// Scheduling reads the prompt of every request (prefix chunks); a body that is not JSON
// must still pass on a backend route, as before: only model() and tokens() need JSON.
TEST(RequestBody, OnlyARoutingNeedMakesABodyMalformed) {
  std::string blank(600, ' ');
  RequestBody spaces(blank);
  EXPECT_TRUE(spaces.prefix_chunks().empty());
  EXPECT_FALSE(spaces.malformed());
  spaces.tokens();
  EXPECT_TRUE(spaces.malformed());
  std::string chat = R"({"messages":[{"role":"user","content":")" + std::string(600, 'x') + R"("}]})";
  RequestBody body(chat);
  EXPECT_EQ(body.prefix_chunks().size(), 2u);
  EXPECT_FALSE(body.malformed());
  EXPECT_GT(body.tokens(), 100u);
}

}  // namespace
}  // namespace duet::router
