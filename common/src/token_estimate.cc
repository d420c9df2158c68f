#include "duet/common/token_estimate.h"

#include <algorithm>
#include <cstring>
#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
#endif
#include <nlohmann/json.hpp>

namespace duet {

namespace {

// The counts of estimate_text_tokens: bytes of 0x80 or more (not ASCII), and of those the
// ones of 0xC0 or more (a code point's first byte).
struct ByteCounts {
  uint64_t high = 0;
  uint64_t lead = 0;
};

// Eight bytes at a time: the tail of count_sse2, and all of it where SSE2 is missing.
void count_words(std::string_view utf8, ByteCounts& c) {
  constexpr uint64_t kTopBits = 0x8080808080808080ull;
  // The number of top bits set in `bits` (only bit 7 of each byte may be set): each becomes
  // a 1 in its byte, and the multiplication adds the eight bytes up in the highest one.
  // (std::popcount is a libgcc call on the baseline x86-64 this is built for.)
  auto count_top = [](uint64_t bits) { return ((bits >> 7) * 0x0101010101010101ull) >> 56; };
  std::size_t i = 0;
  for (; i + 8 <= utf8.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, utf8.data() + i, 8);
    c.high += count_top(word & kTopBits);
    c.lead += count_top(word & (word << 1) & kTopBits);  // bits 7 and 6 both set
  }
  for (; i < utf8.size(); ++i) {
    auto byte = static_cast<unsigned char>(utf8[i]);
    c.high += byte >= 0x80;
    c.lead += byte >= 0xC0;
  }
}

#if defined(__SSE2__) && defined(__x86_64__)
// Sixteen bytes at a time (SSE2 is in every x86-64; 32-bit x86 lacks the 64-bit moves used
// here), counted in byte lanes that are summed every 255 blocks, before a lane can overflow:
// six instructions per 16 bytes where the word loop takes about twelve per 8 (it was a third
// of a 4 KB routing decision).
void count_sse2(std::string_view utf8, ByteCounts& c) {
  const __m128i zero = _mm_setzero_si128();
  const __m128i lead_min = _mm_set1_epi8(static_cast<char>(0xC0));
  const char* p = utf8.data();
  std::size_t blocks = utf8.size() / 16;
  while (blocks > 0) {
    std::size_t run = std::min<std::size_t>(blocks, 255);
    blocks -= run;
    __m128i high = zero, lead = zero;
    for (; run > 0; --run, p += 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      high = _mm_sub_epi8(high, _mm_cmplt_epi8(v, zero));  // signed < 0: 0x80 and up; -1 each
      lead = _mm_sub_epi8(lead, _mm_cmpeq_epi8(_mm_max_epu8(v, lead_min), v));  // 0xC0 and up
    }
    auto sum = [&](__m128i lanes) {
      __m128i halves = _mm_sad_epu8(lanes, zero);  // two 64-bit sums of eight lanes each
      return static_cast<uint64_t>(_mm_cvtsi128_si64(halves)) +
             static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(halves, halves)));
    };
    c.high += sum(high);
    c.lead += sum(lead);
  }
  count_words(utf8.substr(utf8.size() / 16 * 16), c);
}
#endif

}  // namespace

uint64_t estimate_text_tokens(std::string_view utf8) {
  ByteCounts c;
#if defined(__SSE2__) && defined(__x86_64__)
  count_sse2(utf8, c);
#else
  count_words(utf8, c);
#endif
  uint64_t ascii = utf8.size() - c.high;
  return (ascii + 3) / 4 + c.lead;
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
