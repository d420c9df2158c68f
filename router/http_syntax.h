#pragma once
// The character classes of RFC 9110 §5.6 that duet-router's HTTP/1.1 parsers check, and the
// whitespace they trim.

#include <cstdint>
#include <cstring>
#include <string_view>

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
// Eight bytes at a time: a JWT in Authorization is most of a request's header.
inline bool is_field_value(std::string_view text) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  const char* p = text.data();
  std::size_t n = text.size();
  auto bad_byte = [](unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; };
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    // A byte under 0x20 or equal to 0x7f sets its high bit here (bytes of 0x80 and over
    // are masked out by ~word); only then look at the eight one by one, for HTAB.
    std::uint64_t control = (word - 0x20 * kOnes) & ~word & kHigh;
    std::uint64_t del = word ^ (0x7f * kOnes);
    del = (del - kOnes) & ~del & kHigh;
    if ((control | del) != 0)
      for (int i = 0; i < 8; ++i)
        if (bad_byte(static_cast<unsigned char>(p[i]))) return false;
  }
  for (; n > 0; ++p, --n)
    if (bad_byte(static_cast<unsigned char>(*p))) return false;
  return true;
}

// OWS around a field value.
inline std::string_view trim_whitespace(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace duet::router
