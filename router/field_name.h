#pragma once
// The enumerator of a header field's name, for the names duet-router acts on: framing
// (Content-Length, Transfer-Encoding, Expect), access (Authorization), the hop-by-hop set
// (Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade, Proxy-Authorization),
// and Host and Content-Type. Every other name is field::unknown and is matched by its text
// (field_scan.h). Beast's string_to_field knows some 350 names and took about 100
// instructions a field, 3.7 % of a plain proxied request (callgrind, bench/README.md);
// this looks only at the names of the field's length.

#include <boost/beast/http/field.hpp>
#include <string_view>

namespace duet::router {

// `name` must be a token (RFC 9110 §5.6.2, as the parser checked it): case is folded by
// setting one bit, which maps a CR onto '-'.
boost::beast::http::field field_of(std::string_view name) noexcept;

}  // namespace duet::router
