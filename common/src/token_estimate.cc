#include "duet/common/token_estimate.h"

#include <cstring>
#include <nlohmann/json.hpp>

namespace duet {

uint64_t estimate_text_tokens(std::string_view utf8) {
  // Eight bytes at a time (the router runs this over whole prompts on every request):
  // a byte of 0x80 or more is not ASCII, and one of 0xC0 or more starts a code point.
  constexpr uint64_t kTopBits = 0x8080808080808080ull;
  // The number of top bits set in `bits` (only bit 7 of each byte may be set): each becomes
  // a 1 in its byte, and the multiplication adds the eight bytes up in the highest one.
  // (std::popcount is a libgcc call on the baseline x86-64 this is built for.)
  auto count_top = [](uint64_t bits) { return ((bits >> 7) * 0x0101010101010101ull) >> 56; };
  uint64_t high = 0, lead = 0;
  std::size_t i = 0;
  for (; i + 8 <= utf8.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, utf8.data() + i, 8);
    high += count_top(word & kTopBits);
    lead += count_top(word & (word << 1) & kTopBits);  // bits 7 and 6 both set
  }
  for (; i < utf8.size(); ++i) {
    auto c = static_cast<unsigned char>(utf8[i]);
    high += c >= 0x80;
    lead += c >= 0xC0;
  }
  uint64_t ascii = utf8.size() - high;
  return (ascii + 3) / 4 + lead;
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
