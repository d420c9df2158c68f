// Request bodies as duet-router reads them for routing (router/request_body.cc: simdjson,
// the model, the prompt's token estimate plus max_tokens) and the estimate itself
// (common/src/token_estimate.cc). Differential: RequestBody promises nlohmann's semantics
// (last duplicate key wins, duet::estimate_prompt_tokens, max_tokens as a non-negative
// integer), so where both parsers take the body, both must give the same model and tokens;
// and the word-at-a-time estimate_text_tokens must equal a byte-at-a-time count.

#include <cstdint>
#include <nlohmann/json.hpp>

#include "duet/common/token_estimate.h"
#include "fuzz_check.h"
#include "router/request_body.h"

namespace {

using nlohmann::json;

// ASCII is about 4 bytes a token, every byte from 0xC0 (a UTF-8 lead byte) one token.
uint64_t text_tokens_by_byte(std::string_view text) {
  uint64_t ascii = 0, lead = 0;
  for (unsigned char c : text) {
    ascii += c < 0x80;
    lead += c >= 0xC0;
  }
  return (ascii + 3) / 4 + lead;
}

// A non-negative integer. nlohmann reads `-0` as a signed 0 and simdjson as INT64 0: both
// are that, so it counts (as 0).
std::optional<uint64_t> count(const json& request, const char* key) {
  auto it = request.find(key);
  if (it == request.end() || !it->is_number_integer()) return std::nullopt;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->get<int64_t>() == 0) return 0;  // -0
  return std::nullopt;
}

void check_against_nlohmann(std::string_view text, duet::router::RequestBody& body) {
  uint64_t tokens = body.tokens();  // reads the body; malformed() says so only after
  json request = json::parse(text, nullptr, false);
  if (request.is_discarded() || body.malformed()) return;  // the parsers' limits differ
  if (!request.is_object()) {
    DUET_FUZZ_CHECK(tokens == 0 && body.model().empty(), text);
    return;
  }
  auto model = request.find("model");
  std::string expected_model =
      model != request.end() && model->is_string() ? model->get<std::string>() : "";
  DUET_FUZZ_CHECK(body.model() == expected_model, text);
  auto max = count(request, "max_tokens");
  if (!max) max = count(request, "max_completion_tokens");
  uint64_t expected = duet::estimate_prompt_tokens(request) + max.value_or(0);
  DUET_FUZZ_CHECK(tokens == expected, std::to_string(tokens) + " != " + std::to_string(expected) +
                                          " for " + std::string(text));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  DUET_FUZZ_CHECK(duet::estimate_text_tokens(text) == text_tokens_by_byte(text), "estimate");
  duet::router::RequestBody body(text);
  check_against_nlohmann(text, body);
  return 0;
}
