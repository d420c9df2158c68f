#include "duet/common/token_estimate.h"

#include <nlohmann/json.hpp>

namespace duet {

uint64_t estimate_text_tokens(std::string_view utf8) {
  uint64_t ascii = 0;
  uint64_t other = 0;
  for (unsigned char c : utf8) {
    if (c < 0x80)
      ++ascii;
    else if ((c & 0xC0) != 0x80)  // a lead byte starts one code point; continuations add none
      ++other;
  }
  return (ascii + 3) / 4 + other;
}

namespace {

uint64_t content_tokens(const nlohmann::json& content) {
  if (content.is_string()) return estimate_text_tokens(content.get_ref<const std::string&>());
  uint64_t total = 0;
  if (content.is_array()) {
    for (const auto& part : content) {
      if (part.is_string())
        total += estimate_text_tokens(part.get_ref<const std::string&>());
      else if (part.is_object() && part.contains("text") && part["text"].is_string())
        total += estimate_text_tokens(part["text"].get_ref<const std::string&>());
    }
  }
  return total;
}

}  // namespace

uint64_t estimate_prompt_tokens(const nlohmann::json& request) {
  if (!request.is_object()) return 0;
  if (auto it = request.find("prompt"); it != request.end()) return content_tokens(*it);
  uint64_t total = 0;
  if (auto it = request.find("messages"); it != request.end() && it->is_array()) {
    for (const auto& message : *it)
      if (message.is_object() && message.contains("content"))
        total += content_tokens(message["content"]);
  }
  return total;
}

}  // namespace duet
