#include "sim/model/tokenizer.h"

#include <cctype>

#include "duet/common/hash.h"

namespace duet::sim::model {

namespace {

constexpr std::size_t kMaxWordPiece = 8;

bool word_byte(unsigned char c) { return std::isalnum(c) != 0 || c >= 0x80; }

TokenId id_of(std::string_view piece) {
  uint64_t h = fnv1a(piece);
  return kFirstTextToken + static_cast<TokenId>(h % (kVocabularySize - kFirstTextToken));
}

}  // namespace

void tokenize_into(std::string_view text, std::vector<TokenId>& out) {
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    if (text[i] == ' ' && i + 1 < text.size() && word_byte(static_cast<unsigned char>(text[i + 1])))
      ++i;  // the space goes with the word after it, as in GPT-style tokenizers
    if (word_byte(static_cast<unsigned char>(text[i]))) {
      std::size_t end = i;
      while (end < text.size() && end - i < kMaxWordPiece && word_byte(static_cast<unsigned char>(text[end])))
        ++end;
      i = end;
    } else {
      ++i;
    }
    out.push_back(id_of(text.substr(start, i - start)));
  }
}

std::vector<TokenId> tokenize(std::string_view text) {
  std::vector<TokenId> out;
  out.reserve(text.size() / 4 + 1);
  tokenize_into(text, out);
  return out;
}

}  // namespace duet::sim::model
