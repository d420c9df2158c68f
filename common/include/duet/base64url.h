#pragma once
// Base64url without padding (RFC 4648 §5), the encoding of JWT segments and JWK numbers.

#include <optional>
#include <string>
#include <string_view>

namespace duet {

std::string base64url_encode(std::string_view bytes);
// nullopt when `text` has a character outside the alphabet or an impossible length.
// Padding ('=') at the end is accepted, as some JWKS publishers add it.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace duet
