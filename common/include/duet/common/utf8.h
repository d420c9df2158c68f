#pragma once
// UTF-8 validity (RFC 3629) for text from outside: manifests, and values that the logger
// writes, where a byte that is not UTF-8 is refused or escaped rather than passed on.

#include <cstddef>
#include <optional>
#include <string_view>

namespace duet {

// Length of the valid UTF-8 sequence at the start of `text` (1 for ASCII), 0 when it is not
// one (a stray continuation byte, a truncated sequence, an overlong form, a surrogate, a code
// point past U+10FFFF) or `text` is empty.
std::size_t utf8_sequence_length(std::string_view text);

// Offset of the first byte of `text` that is not part of valid UTF-8; nullopt when all is.
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

}  // namespace duet
