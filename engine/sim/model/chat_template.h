#pragma once
// How duet-sim turns chat messages into one token sequence, ChatML-style: each message is
// <start> role-token, its content, <end>; the prompt ends with <start> assistant, where the
// answer begins. A conversation resent with the previous answer appended as an assistant
// message therefore shares every token of the earlier turns (the answer's text tokenizes as
// it was generated), and prefix caching can find them. For the same reason a chat whose final
// assistant message is the first k words of an answer, rendered with continue_final_message,
// goes on with that answer's words from k on.

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

// How a chat's end is rendered: vLLM's chat request fields of the same names.
struct ChatRender {
  // The prompt ends with <start> assistant, where the answer begins.
  bool add_generation_prompt = true;
  // The final message is left open, without its <end>: the model goes on with it (a prefill).
  // vLLM takes it only with add_generation_prompt false (request_parser.cc checks).
  bool continue_final_message = false;
};

// The prompt tokens of `messages`; by default ready for the assistant's answer.
std::vector<TokenId> render_chat(const std::vector<ChatMessage>& messages, ChatRender render = {});

}  // namespace duet::sim::model
