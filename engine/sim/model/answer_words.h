#pragma once
// What duet-sim's model answers: each generated token is one word of a fixed list, chosen by
// a hash of every token before it, so an answer is a pure function of its prompt (a replay
// gives the same words) and its text tokenizes back to the ids generated (a conversation
// resent with the answer hits the blocks the answer filled).

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/model/tokenizer.h"

namespace duet::sim::model {

// The next token after `tokens`.
TokenId next_token(const std::vector<TokenId>& tokens);
// The text of a token next_token() gives (" w1f3"); empty for any other id.
std::string_view answer_text(TokenId token);
// The text duet-sim can give back for `tokens` (POST /detokenize): each answer word's text, one
// after the other. Other ids add nothing: a prompt's ids are hashes of its text, not
// invertible, and the chat template's markers have no text.
std::string detokenize(std::span<const TokenId> tokens);

}  // namespace duet::sim::model
