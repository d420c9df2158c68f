#include "duet/common/token_estimate.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

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

// The count runs eight bytes at a time; it must agree with a byte-by-byte count of the rule
// (a byte below 0x80 is ASCII, a byte of 0xC0 or more starts a code point) at every length
// and alignment, for ASCII, CJK, emoji and stray bytes mixed.
TEST(TokenEstimate, WordAtATimeCountMatchesTheByteRule) {
  auto by_bytes = [](std::string_view s) {
    uint64_t ascii = 0, other = 0;
    for (unsigned char c : s) {
      ascii += c < 0x80;
      other += c >= 0xC0;
    }
    return (ascii + 3) / 4 + other;
  };
  const std::string pieces[] = {"a", "hello ", "中", "😀", "\x80", "\xff", "é"};
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    auto length = rng() % 40;
    for (std::size_t i = 0; i < length; ++i) text += pieces[rng() % std::size(pieces)];
    auto offset = text.empty() ? 0 : rng() % text.size();  // unaligned starts too
    std::string_view view = std::string_view(text).substr(offset);
    ASSERT_EQ(duet::estimate_text_tokens(view), by_bytes(view)) << text;
  }
}

// Sixteen bytes at a time, the counts are kept in byte lanes and summed every 255 blocks:
// texts past 255 × 16 bytes whose every byte counts (0xC0 and up: both counts) must not wrap
// a lane, and random bytes of every value must agree with the byte rule at any length.
TEST(TokenEstimate, LongTextsCountEveryByte) {
  for (std::size_t n : {4079u, 4080u, 4081u, 4096u, 8160u, 8177u, 65536u + 7}) {
    std::string lead(n, '\xF0');
    ASSERT_EQ(duet::estimate_text_tokens(lead), n) << n;  // no ASCII, every byte a code point
    std::string continuation(n, '\x80');
    ASSERT_EQ(duet::estimate_text_tokens(continuation), 0u) << n;
  }
  std::mt19937 rng(11);
  for (int round = 0; round < 50; ++round) {
    std::string text(rng() % 9000, '\0');
    for (char& c : text) c = static_cast<char>(rng());
    uint64_t ascii = 0, other = 0;
    for (unsigned char c : text) {
      ascii += c < 0x80;
      other += c >= 0xC0;
    }
    ASSERT_EQ(duet::estimate_text_tokens(text), (ascii + 3) / 4 + other) << text.size();
  }
}
