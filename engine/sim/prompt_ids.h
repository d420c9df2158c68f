#pragma once
// The token ids of a request's prompt for the engine model: a completion's `prompt` (a string
// or a list of strings, one after the other) through the tokenizer, a chat's `messages`
// through the chat template. The request was validated before (request_parser.cc).

#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "sim/model/chat_template.h"
#include "sim/model/tokenizer.h"
#include "sim/request_parser.h"

namespace duet::sim {

// `render`: how a chat's end is rendered (its add_generation_prompt, continue_final_message).
std::vector<model::TokenId> prompt_ids(Api api, const nlohmann::json& request,
                                       model::ChatRender render = {});

// A completion's `prompt` given as token ids (vLLM's list[int]), not as text: its first
// element says which (request_parser.cc checks the rest).
bool is_token_id_prompt(const nlohmann::json& prompt);

}  // namespace duet::sim
