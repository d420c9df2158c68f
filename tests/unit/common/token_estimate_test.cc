#include "duet/common/token_estimate.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace duet {
namespace {

TEST(TokenEstimate, AsciiIsFourBytesAToken) {
  EXPECT_EQ(estimate_text_tokens(""), 0u);
  EXPECT_EQ(estimate_text_tokens("abcd"), 1u);
  EXPECT_EQ(estimate_text_tokens("abcde"), 2u);
  EXPECT_EQ(estimate_text_tokens(std::string(4096, 'x')), 1024u);
}

TEST(TokenEstimate, EveryOtherCodePointIsOneToken) {
  EXPECT_EQ(estimate_text_tokens("你好世界"), 4u);           // 3-byte code points
  EXPECT_EQ(estimate_text_tokens("héllo"), 1u + 1u);         // "hllo" + é
  EXPECT_EQ(estimate_text_tokens("\xF0\x9F\x98\x80"), 1u);   // one 4-byte emoji
}

TEST(TokenEstimate, PromptAndMessages) {
  auto completion = nlohmann::json::parse(R"({"prompt": "abcdefgh"})");
  EXPECT_EQ(estimate_prompt_tokens(completion), 2u);
  auto batch = nlohmann::json::parse(R"({"prompt": ["abcd", "你好"]})");
  EXPECT_EQ(estimate_prompt_tokens(batch), 3u);
  auto chat = nlohmann::json::parse(
      R"({"messages": [{"role": "system", "content": "abcd"},
                       {"role": "user", "content": [{"type": "text", "text": "你好"}]}]})");
  EXPECT_EQ(estimate_prompt_tokens(chat), 3u);
  EXPECT_EQ(estimate_prompt_tokens(nlohmann::json::parse("[1,2]")), 0u);
}

}  // namespace
}  // namespace duet
