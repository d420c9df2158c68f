#pragma once
// The request size estimate of SPEC §5 step 4, shared by duet-router (pool choice) and
// duet-sim (usage counts): ASCII is about 4 bytes a token, every other code point one token.

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string_view>

namespace duet {

// Tokens in a UTF-8 text. Invalid UTF-8 still counts: a stray lead byte (0xC0 and up) is
// one token, a stray continuation byte none.
uint64_t estimate_text_tokens(std::string_view utf8);

// Tokens of the prompt of an OpenAI request: `prompt` (string or array of strings) or
// `messages[*].content` (string or array of parts with `text`). `max_tokens` is not added.
uint64_t estimate_prompt_tokens(const nlohmann::json& request);

}  // namespace duet
