#pragma once
// Reads and validates the body of /v1/completions and /v1/chat/completions the way vLLM
// does: each problem becomes an OpenAI error that names the field (`param`), never an
// exception. Only what duet-sim acts on is kept; other OpenAI fields are accepted and ignored.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sim/model/chat_template.h"
#include "sim/stop_strings.h"

namespace duet::sim {

enum class Api { completions, chat };

struct InferenceRequest {
  Api api = Api::completions;
  bool stream = false;
  // stream_options.include_usage, as vLLM reads it: nullopt when the request has no
  // stream_options (duet-sim then puts usage in the closing chunk, as it always did); true
  // (also for `stream_options: {}`, vLLM's default): usage in a chunk of its own with empty
  // `choices` after the closing chunk; false: no usage in the stream.
  std::optional<bool> include_usage;
  uint64_t prompt_tokens = 0;     // duet::estimate_prompt_tokens, or prompt_ids' count
  std::vector<uint32_t> prompt_ids;  // with the engine model only (sim/prompt_ids.h)
  // vLLM's return_token_ids, honoured with the engine model (and --token-ids on): a
  // completion's chunks carry `prompt_token_ids` (the first) and `token_ids`.
  bool return_token_ids = false;
  uint64_t max_tokens = 0;        // tokens to generate: the request's, or the default
  bool max_tokens_given = false;  // finish_reason is "length" when given, else "stop"
  StopSpec stop;                  // stop, include_stop_str_in_output, min_tokens
  model::ChatRender chat_render;  // a chat's add_generation_prompt, continue_final_message
};

struct RequestError {
  int status = 400;
  std::string message;
  std::string param;  // the offending field, e.g. "messages[1].content"; empty = none
};

struct RequestLimits {
  std::string_view model;  // the one served model; other names are 404
  uint64_t default_max_tokens = 16;
  uint64_t max_model_len = 32768;  // prompt + output tokens
  bool tokenize = false;           // the engine model: prompt_ids, and prompt_tokens from them
  bool token_ids = false;          // return_token_ids is honoured (with tokenize)
};

using ParseResult = std::variant<InferenceRequest, RequestError>;

ParseResult parse_request(Api api, std::string_view body, const RequestLimits& limits);

}  // namespace duet::sim
