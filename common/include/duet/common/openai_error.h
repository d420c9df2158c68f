#pragma once
// Errors in the OpenAI API's JSON shape, which clients of vLLM and of duet-router parse:
// {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}.

#include <string>
#include <string_view>

namespace duet {

// `type` follows OpenAI: invalid_request_error, authentication_error, rate_limit_error,
// not_found_error, server_error. `param` names the offending field or header ("" = null).
std::string openai_error_body(int status, std::string_view message, std::string_view type,
                              std::string_view param = {});

// The `type` OpenAI uses for an HTTP status.
std::string_view openai_error_type(int status);

}  // namespace duet
