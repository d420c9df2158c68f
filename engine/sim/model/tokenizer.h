#pragma once
// duet-sim's own deterministic tokenizer: stable token ids from text, no vocabulary file.
// A piece is a run of up to 8 letters or digits with at most one space before it, or any
// other single byte; its id is a hash of its bytes. Text that extends other text (a chat
// resent with one more turn) tokenizes to the same ids up to the last piece of the shorter
// one, which is what prefix caching needs. Not a real model's tokenizer: its counts are
// about one token per 4-5 characters of English, as BPE tokenizers give.

#include <cstdint>
#include <string_view>
#include <vector>

namespace duet::sim::model {

using TokenId = uint32_t;

// Ids below this are reserved for the chat template's markers.
inline constexpr TokenId kFirstTextToken = 16;
inline constexpr TokenId kVocabularySize = 1u << 17;

std::vector<TokenId> tokenize(std::string_view text);
// Appends the tokens of `text` to `out` (no copy of what is already there).
void tokenize_into(std::string_view text, std::vector<TokenId>& out);

}  // namespace duet::sim::model
