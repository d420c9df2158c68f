// Stop strings as vLLM applies them, by hand: where an answer ends and is cut, what a stream
// holds back on the way (never the last max(len(stop)) - 1 bytes until the end), min_tokens,
// and that without stop strings every token's text passes at once.
#include "duet/common/stop_strings.h"

#include <gtest/gtest.h>

#include <random>

namespace duet {
namespace {

// What a stream sent, token by token (one token a piece), and how the answer ended.
struct Fed {
  std::vector<std::string> deltas;
  std::string text;
  std::optional<std::string> stop_reason;
  uint64_t tokens = 0;
};

// Feeds `tokens` (the answer's length is their count) until the end or a stop string.
Fed feed_tokens(const StopStrings& spec, const std::vector<std::string>& tokens) {
  StopStringFilter out(spec);
  Fed fed;
  for (std::size_t i = 0; i < tokens.size() && !out.stopped(); ++i) {
    fed.deltas.emplace_back(out.add(tokens[i], 1, i + 1 == tokens.size()));
    fed.text += fed.deltas.back();
  }
  if (auto why = out.stop_reason()) fed.stop_reason = std::string(*why);
  fed.tokens = out.tokens();
  return fed;
}

std::string joined(const std::vector<std::string>& pieces) {
  std::string all;
  for (const auto& p : pieces) all += p;
  return all;
}

const std::vector<std::string> kWords = {" alpha", " beta", " gamma", " delta", " epsilon"};

TEST(StopStringFilter, WithoutThemEveryTokensTextPassesAtOnce) {
  auto fed = feed_tokens({}, kWords);
  EXPECT_EQ(fed.deltas, kWords);
  EXPECT_EQ(fed.text, joined(kWords));
  EXPECT_FALSE(fed.stop_reason);
  EXPECT_EQ(fed.tokens, 5u);
}

TEST(StopStringFilter, TheFirstEndsTheAnswerCutBeforeIt) {
  auto fed = feed_tokens({{" gamma"}}, kWords);
  EXPECT_EQ(fed.text, " alpha beta");
  EXPECT_EQ(joined(fed.deltas), " alpha beta");  // the stream says the same, once
  EXPECT_EQ(fed.stop_reason, " gamma");
  EXPECT_EQ(fed.tokens, 3u);  // the token that completed it counts
}

TEST(StopStringFilter, AStringAcrossTokensIsFoundWhenItsLastTokenComes) {
  auto fed = feed_tokens({{"ta gam"}}, kWords);
  EXPECT_EQ(fed.text, " alpha be");
  EXPECT_EQ(fed.tokens, 3u);
  EXPECT_EQ(joined(fed.deltas), " alpha be");
}

TEST(StopStringFilter, IncludeStopStrKeepsItAndHoldsNothingBack) {
  auto fed = feed_tokens({{"gam"}, true, 0}, kWords);
  EXPECT_EQ(fed.text, " alpha beta gam");  // cut after the string: "ma" goes
  EXPECT_EQ(fed.deltas, (std::vector<std::string>{" alpha", " beta", " gam"}));
}

TEST(StopStringFilter, TheRequestsOrderDecidesBetweenTwoInOneToken) {
  auto fed = feed_tokens({{"mma", "gam"}}, kWords);
  EXPECT_EQ(fed.stop_reason, "mma");  // vLLM checks them in order, not by position
  EXPECT_EQ(fed.text, " alpha beta ga");
}

TEST(StopStringFilter, AStreamNeverHasTheLastMaxLenMinusOneBytesUntilTheEnd) {
  StopStringFilter out({{"zz", "never"}});  // holds back 4 bytes
  std::string sent, fed;
  for (std::size_t i = 0; i < kWords.size(); ++i) {
    bool last = i + 1 == kWords.size();
    sent += out.add(kWords[i], 1, last);
    fed += kWords[i];
    if (!last) {
      EXPECT_EQ(sent.size(), fed.size() - 4) << i;
    }
  }
  EXPECT_EQ(sent, joined(kWords));  // the last token flushes what was held
  EXPECT_FALSE(out.stopped());
}

TEST(StopStringFilter, MinTokensKeepsEarlierTextFromEndingTheAnswer) {
  // " beta" ends in token 2; with min_tokens 2 the search starts with token 3, and vLLM looks
  // only at text that could end in the new token, so it never sees it.
  auto fed = feed_tokens({{" beta"}, false, 2}, kWords);
  EXPECT_FALSE(fed.stop_reason);
  EXPECT_EQ(fed.text, joined(kWords));
  // A string that ends in token 3 still counts, even if it started before.
  auto across = feed_tokens({{"ta gam"}, false, 2}, kWords);
  EXPECT_EQ(across.stop_reason, "ta gam");
  EXPECT_EQ(across.tokens, 3u);
}

TEST(StopStringFilter, TheHoldbackNeverSplitsAUtf8Character) {
  // "é" is two bytes; holding back 2 bytes of " caf" + "é!" would cut it in half.
  StopStringFilter out({{"xyz"}});
  EXPECT_EQ(out.add(" caf", 1), " c");
  EXPECT_EQ(out.add("\xC3\xA9!", 1), "af");  // not "af\xC3": the whole "é" waits
  EXPECT_EQ(out.add(" ok", 1, true), "\xC3\xA9! ok");
}

// For random answers and a stop string taken from them: the stream's text, joined, is the
// whole answer's, which is the uninterrupted text cut before the string's first occurrence.
TEST(StopStringFilter, TheJoinedStreamIsTheUninterruptedTextCutAtTheFirstOccurrence) {
  std::mt19937 rng(7);
  const std::string letters = "ab ";
  for (int round = 0; round < 500; ++round) {
    std::vector<std::string> tokens(1 + rng() % 12);
    for (auto& t : tokens)
      for (std::size_t n = 1 + rng() % 3; n > 0; --n) t += letters[rng() % letters.size()];
    std::string all = joined(tokens);
    std::size_t from = rng() % all.size();
    std::string stop = all.substr(from, 1 + rng() % 4);
    auto fed = feed_tokens({{stop}}, tokens);
    std::size_t at = all.find(stop);
    SCOPED_TRACE("text '" + all + "' stop '" + stop + "'");
    EXPECT_EQ(fed.text, all.substr(0, at));
    EXPECT_EQ(joined(fed.deltas), fed.text);
    EXPECT_EQ(fed.stop_reason, stop);
    std::size_t needed = 0, tokens_needed = 0;
    while (needed < at + stop.size()) needed += tokens[tokens_needed++].size();
    EXPECT_EQ(fed.tokens, tokens_needed);
  }
}

// A piece may carry several tokens (an engine's chunk): min_tokens counts them all.
TEST(StopStringFilter, APieceOfSeveralTokensCountsThemAll) {
  StopStringFilter out({{" beta"}, false, 2});
  std::string sent(out.add(" alpha beta", 2));  // 2 tokens: not more than min_tokens yet
  EXPECT_FALSE(out.stopped());
  sent += out.add(" gamma beta", 2);
  EXPECT_TRUE(out.stopped());
  EXPECT_EQ(sent, " alpha beta gamma");
  EXPECT_EQ(out.tokens(), 4u);
}

// An answer that ends some other way (its engine failed for good) gets what was held back.
TEST(StopStringFilter, FlushGivesWhatWasHeldBack) {
  StopStringFilter out({{"never"}});
  EXPECT_EQ(out.add(" alpha", 1), " a");
  EXPECT_EQ(out.flush(), "lpha");
  EXPECT_FALSE(out.stopped());
}

}  // namespace
}  // namespace duet
