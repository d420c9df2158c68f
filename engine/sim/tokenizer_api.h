#pragma once
// vLLM's POST /tokenize and POST /detokenize over the engine model's tokenizer and chat
// template (--profile): a prompt, or a chat's messages, to token ids; token ids back to the
// text duet-sim can give (its answer words'). Pure: a request body in, the JSON answer or an
// error naming the field out.

#include <string>
#include <string_view>
#include <variant>

#include "sim/request_parser.h"

namespace duet::sim {

using TokenizerAnswer = std::variant<std::string, RequestError>;

// {"prompt": "text"} or {"messages": [...], "add_generation_prompt"?, "continue_final_message"?}
// (add_special_tokens accepted) -> {"count": N, "max_model_len": M, "tokens": [ids]}.
TokenizerAnswer tokenize_answer(std::string_view body, const RequestLimits& limits);
// {"tokens": [ids]} -> {"prompt": "text"}; an id outside the vocabulary names `tokens[i]`.
TokenizerAnswer detokenize_answer(std::string_view body, const RequestLimits& limits);

}  // namespace duet::sim
