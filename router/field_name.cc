#include "router/field_name.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

namespace duet::router {

namespace http = boost::beast::http;

namespace {

// Eight bytes of `text` from `at`, little-endian (as a load of them on x86-64 and ARM64).
constexpr std::uint64_t word_at(std::string_view text, std::size_t at) {
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < 8; ++i)
    word |= std::uint64_t{static_cast<unsigned char>(text[at + i])} << (8 * i);
  return word;
}

// A name, lowercase, and for one of 8 bytes or more the words a match compares: the first,
// the second (16 bytes or more), and the last (which may overlap them).
struct KnownName {
  std::string_view lower;
  http::field field;
  std::uint64_t first = 0, second = 0, last = 0;

  constexpr KnownName(std::string_view name, http::field f) : lower(name), field(f) {
    if (name.size() >= 8) first = word_at(name, 0), last = word_at(name, name.size() - 8);
    if (name.size() >= 16) second = word_at(name, 8);
  }
};

constexpr std::array kKnown{
    KnownName{"te", http::field::te},
    KnownName{"host", http::field::host},
    KnownName{"expect", http::field::expect},
    KnownName{"upgrade", http::field::upgrade},
    KnownName{"trailer", http::field::trailer},
    KnownName{"connection", http::field::connection},
    KnownName{"keep-alive", http::field::keep_alive},
    KnownName{"content-type", http::field::content_type},
    KnownName{"authorization", http::field::authorization},
    KnownName{"content-length", http::field::content_length},
    KnownName{"proxy-connection", http::field::proxy_connection},
    KnownName{"transfer-encoding", http::field::transfer_encoding},
    KnownName{"proxy-authorization", http::field::proxy_authorization},
};

constexpr std::size_t kLongest = kKnown.back().lower.size();
static_assert(std::is_sorted(kKnown.begin(), kKnown.end(),
                             [](const KnownName& a, const KnownName& b) {
                               return a.lower.size() < b.lower.size();
                             }));

// The first entry of each length, and one past the last: the table is sorted by length.
constexpr auto kByLength = [] {
  std::array<std::uint8_t, kLongest + 2> first{};
  std::size_t i = 0;
  for (std::size_t length = 0; length <= kLongest + 1; ++length) {
    while (i < kKnown.size() && kKnown[i].lower.size() < length) ++i;
    first[length] = static_cast<std::uint8_t>(i);
  }
  return first;
}();

// `name` is a token (the parser checked it), and a known name holds only lowercase letters
// and '-': setting bit 0x20 then folds case and maps no other token character onto either
// ('^' and '~', '_' and DEL differ by that bit, but '~' and DEL are in no known name).
constexpr std::uint64_t kFold = 0x2020202020202020ULL;

std::uint64_t folded_word(std::string_view name, std::size_t at) noexcept {
  std::uint64_t word;
  std::memcpy(&word, name.data() + at, 8);
  if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
  return word | kFold;
}

bool equals_lower(std::string_view name, const KnownName& known) noexcept {
  if (name.size() < 8) {
    for (std::size_t i = 0; i < name.size(); ++i)
      if ((static_cast<unsigned char>(name[i]) | 0x20) !=
          static_cast<unsigned char>(known.lower[i]))
        return false;
    return true;
  }
  return folded_word(name, 0) == known.first && folded_word(name, name.size() - 8) == known.last &&
         (name.size() < 16 || folded_word(name, 8) == known.second);
}

}  // namespace

http::field field_of(std::string_view name) noexcept {
  if (name.size() > kLongest) return http::field::unknown;
  for (std::size_t i = kByLength[name.size()]; i < kByLength[name.size() + 1]; ++i)
    if (equals_lower(name, kKnown[i])) return kKnown[i].field;
  return http::field::unknown;
}

}  // namespace duet::router
