#pragma once
// Percent-encoding (RFC 3986) of the node API's URLs: duetctl encodes every path segment and
// query value it sends (file names may hold spaces, '#', '?', '&' or any byte), duetd decodes.

#include <optional>
#include <string>
#include <string_view>

namespace duet::daemon {

// Every byte but the unreserved ones (A-Z a-z 0-9 - . _ ~) as %XX: safe in a path segment
// and in a query value.
std::string percent_encode(std::string_view text);

// %XX as the byte; nullopt when a '%' is not followed by two hex digits. '+' stays '+'.
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace duet::daemon
