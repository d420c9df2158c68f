#pragma once
// How duet-sim turns chat messages into one token sequence, ChatML-style: each message is
// <start> role-token, its content, <end>; the prompt ends with <start> assistant, where the
// answer begins. A conversation resent with the previous answer appended as an assistant
// message therefore shares every token of the earlier turns (the answer's text tokenizes as
// it was generated), and prefix caching can find them.

#include <string>
#include <string_view>
#include <vector>

#include "sim/model/tokenizer.h"

namespace duet::sim::model {

struct ChatMessage {
  std::string role;  // system, user, assistant, tool (others are tokenized as text)
  std::string content;
};

inline constexpr TokenId kMessageStart = 1;
inline constexpr TokenId kMessageEnd = 2;

// The prompt tokens of `messages`, ready for the assistant's answer.
std::vector<TokenId> render_chat(const std::vector<ChatMessage>& messages);

}  // namespace duet::sim::model
