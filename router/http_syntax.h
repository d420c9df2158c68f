#pragma once
// The character classes of RFC 9110 §5.6 that duet-router's HTTP/1.1 parsers check, and the
// whitespace they trim.

#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace duet::router {

// tchar: "!#$%&'*+-.^_`|~", digits and letters.
inline bool is_token_char(unsigned char c) noexcept {
  static constexpr auto kTable = [] {
    struct Table {
      bool yes[256] = {};
    } table;
    for (unsigned c = '0'; c <= '9'; ++c) table.yes[c] = true;
    for (unsigned c = 'a'; c <= 'z'; ++c) table.yes[c] = table.yes[c - 32] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~"))
      table.yes[static_cast<unsigned char>(c)] = true;
    return table;
  }();
  return kTable.yes[c];
}

inline bool is_token(std::string_view text) noexcept {
  if (text.empty()) return false;
  for (char c : text)
    if (!is_token_char(static_cast<unsigned char>(c))) return false;
  return true;
}

// field-value: HTAB, SP, VCHAR and obs-text; no other control character (CR, LF, NUL, DEL).
inline bool is_field_value_byte(unsigned char c) noexcept {
  return (c >= 0x20 && c != 0x7f) || c == '\t';
}

// The same eight bytes at a time, on any CPU. A byte under 0x20 or equal to 0x7f sets a high
// bit here (bytes of 0x80 and over are masked out by ~word); HTAB does too, so then the
// bytes are looked at one by one.
inline bool is_field_value_portable(std::string_view text) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  const char* p = text.data();
  std::size_t n = text.size();
  std::uint64_t flagged = 0;
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    std::uint64_t del = word ^ (0x7f * kOnes);
    flagged |= ((word - 0x20 * kOnes) & ~word & kHigh) | ((del - kOnes) & ~del & kHigh);
  }
  if (flagged != 0) p = text.data(), n = text.size();
  for (; n > 0; ++p, --n)
    if (!is_field_value_byte(static_cast<unsigned char>(*p))) return false;
  return true;
}

// Sixteen bytes at a time where SSE2 is (every x86-64): a JWT in Authorization is most of a
// request's header.
inline bool is_field_value(std::string_view text) noexcept {
#if defined(__SSE2__)
  const char* p = text.data();
  std::size_t n = text.size();
  // A byte that min(byte, 0x1f) leaves as it is, unsigned, is a control character.
  const __m128i c1f = _mm_set1_epi8(0x1f), tab = _mm_set1_epi8('\t'), del = _mm_set1_epi8(0x7f);
  __m128i bad = _mm_setzero_si128();
  for (; n >= 16; p += 16, n -= 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i control =
        _mm_andnot_si128(_mm_cmpeq_epi8(x, tab), _mm_cmpeq_epi8(_mm_min_epu8(x, c1f), x));
    bad = _mm_or_si128(bad, _mm_or_si128(control, _mm_cmpeq_epi8(x, del)));
  }
  if (_mm_movemask_epi8(bad) != 0) return false;
  for (; n > 0; ++p, --n)
    if (!is_field_value_byte(static_cast<unsigned char>(*p))) return false;
  return true;
#else
  return is_field_value_portable(text);
#endif
}

// OWS around a field value.
inline std::string_view trim_whitespace(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace duet::router
