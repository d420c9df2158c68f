#pragma once
// The checks of request fields that the inference endpoints (request_parser.cc) and
// /tokenize (tokenizer_api.cc) share, each turning a problem into a RequestError that names
// the field, as vLLM's 400s do.

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "sim/model/chat_template.h"
#include "sim/request_parser.h"

namespace duet::sim {

using MaybeError = std::optional<RequestError>;

// 400: `param` was expected to be `expected` and was `got`.
RequestError wrong_field(const std::string& param, std::string_view expected,
                         const nlohmann::json& got);
// 400: `param` is required.
RequestError missing_field(const std::string& param);

// A boolean `field` into `out`; absent or null leaves `out` as it is.
MaybeError read_bool(const nlohmann::json& doc, const char* field, bool& out);

// Each element of `ids` (an array) is a token id of the vocabulary, else a 400 naming
// `field[i]`.
MaybeError check_token_ids(const nlohmann::json& ids, const char* field);

// The body as a JSON object: UTF-8, JSON, an object.
MaybeError parse_document(std::string_view body, nlohmann::json& doc);
// `model`, when given, names the served one (else 404, as vLLM).
MaybeError check_model(const nlohmann::json& doc, std::string_view served);
// `messages`: a non-empty array of messages with a role and text content.
MaybeError check_messages(const nlohmann::json& doc);
// add_generation_prompt and continue_final_message, as vLLM takes them: continuing the final
// message needs add_generation_prompt false and a final message of the assistant's.
MaybeError read_chat_render(const nlohmann::json& doc, model::ChatRender& out);

}  // namespace duet::sim
