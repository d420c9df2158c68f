#include "sim/model/answer_words.h"

#include <cstdio>
#include <string>
#include <unordered_map>

#include "duet/common/hash.h"

namespace duet::sim::model {

namespace {

constexpr std::size_t kWords = 4096;

struct Vocabulary {
  std::vector<std::string> words;
  std::vector<TokenId> ids;
  std::unordered_map<TokenId, std::size_t> index;

  // " w0", " w1"... skipping any whose id another word already has, so ids map back.
  Vocabulary() {
    for (std::size_t n = 0; words.size() < kWords; ++n) {
      char hex[16];
      std::snprintf(hex, sizeof hex, " w%zx", n);
      auto ids_of = tokenize(hex);
      if (ids_of.size() != 1 || index.count(ids_of[0])) continue;
      index[ids_of[0]] = words.size();
      words.emplace_back(hex);
      ids.push_back(ids_of[0]);
    }
  }
};

const Vocabulary& vocabulary() {
  static const Vocabulary v;
  return v;
}

}  // namespace

TokenId next_token(const std::vector<TokenId>& tokens) {
  uint64_t h = kFnvOffsetBasis ^ tokens.size();
  // The last few tokens and the length: cheap, and still a function of the whole sequence's
  // position, so that a long answer does not fall into a short loop.
  std::size_t from = tokens.size() > 4 ? tokens.size() - 4 : 0;
  for (std::size_t i = from; i < tokens.size(); ++i) h = fnv1a_step(h, tokens[i]);
  h ^= h >> 29;
  return vocabulary().ids[h % kWords];
}

std::string_view answer_text(TokenId token) {
  const auto& v = vocabulary();
  auto it = v.index.find(token);
  return it == v.index.end() ? std::string_view() : std::string_view(v.words[it->second]);
}

std::string detokenize(std::span<const TokenId> tokens) {
  std::string text;
  for (TokenId t : tokens) text.append(answer_text(t));
  return text;
}

}  // namespace duet::sim::model
