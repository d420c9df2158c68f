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

// How many of the leading bytes of `text` are token characters.
inline std::size_t token_prefix(std::string_view text) noexcept {
  std::size_t n = 0;
#if defined(__SSE2__)
  // Names are letters, digits and '-' but for a rare one: sixteen bytes at a time for those,
  // byte by byte from the first other character on.
  const __m128i fold = _mm_set1_epi8(0x20), before_a = _mm_set1_epi8('a' - 1),
                after_z = _mm_set1_epi8('z' + 1), before_0 = _mm_set1_epi8('0' - 1),
                after_9 = _mm_set1_epi8('9' + 1), dash = _mm_set1_epi8('-');
  for (; n + 16 <= text.size(); n += 16) {
    // Signed compares: a byte of 0x80 or over is below every bound.
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + n));
    __m128i lower = _mm_or_si128(x, fold);
    __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(lower, before_a), _mm_cmplt_epi8(lower, after_z));
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, before_0), _mm_cmplt_epi8(x, after_9));
    __m128i usual = _mm_or_si128(_mm_or_si128(letter, digit), _mm_cmpeq_epi8(x, dash));
    unsigned others = ~static_cast<unsigned>(_mm_movemask_epi8(usual)) & 0xffffu;
    if (others != 0) {
      n += static_cast<std::size_t>(__builtin_ctz(others));
      break;
    }
  }
#endif
  while (n < text.size() && is_token_char(static_cast<unsigned char>(text[n]))) ++n;
  return n;
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

// Whether any of the eight bytes at `p` is under 0x20 or is 0x7f (bytes of 0x80 and over
// are masked out by ~word). HTAB is under 0x20 too: the caller looks at the bytes one by one
// then.
inline bool any_control_or_tab(const char* p) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  std::uint64_t word;
  std::memcpy(&word, p, 8);
  std::uint64_t del = word ^ (0x7f * kOnes);
  return (((word - 0x20 * kOnes) & ~word) | ((del - kOnes) & ~del)) & kHigh;
}

inline bool is_field_value_bytes(const char* p, std::size_t n) noexcept {
  for (; n > 0; ++p, --n)
    if (!is_field_value_byte(static_cast<unsigned char>(*p))) return false;
  return true;
}

// The same eight bytes at a time, on any CPU; the last eight may overlap the ones before.
inline bool is_field_value_portable(std::string_view text) noexcept {
  const char* p = text.data();
  std::size_t n = text.size();
  if (n < 8) return is_field_value_bytes(p, n);
  bool flagged = false;
  for (std::size_t at = 0; at + 8 <= n; at += 8) flagged |= any_control_or_tab(p + at);
  flagged |= any_control_or_tab(p + n - 8);
  return !flagged || is_field_value_bytes(p, n);
}

// Sixteen bytes at a time where SSE2 is (every x86-64): a JWT in Authorization is most of a
// request's header. The last sixteen may overlap the ones before; a value of 8 to 15 bytes
// goes eight at a time.
inline bool is_field_value(std::string_view text) noexcept {
#if defined(__SSE2__)
  const char* p = text.data();
  std::size_t n = text.size();
  if (n < 16) return is_field_value_portable(text);
  // A byte that min(byte, 0x1f) leaves as it is, unsigned, is a control character.
  const __m128i c1f = _mm_set1_epi8(0x1f), tab = _mm_set1_epi8('\t'), del = _mm_set1_epi8(0x7f);
  auto bad_in = [&](const char* at) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    __m128i control =
        _mm_andnot_si128(_mm_cmpeq_epi8(x, tab), _mm_cmpeq_epi8(_mm_min_epu8(x, c1f), x));
    return _mm_or_si128(control, _mm_cmpeq_epi8(x, del));
  };
  __m128i bad = bad_in(p + n - 16);
  for (std::size_t at = 0; at + 16 <= n; at += 16) bad = _mm_or_si128(bad, bad_in(p + at));
  return _mm_movemask_epi8(bad) == 0;
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
