#pragma once
// Why a client's request or an engine's response is not HTTP/1.1 that duet-router takes, in
// words a client can act on (the 400's body says "malformed HTTP request: " and this).
// The limits and the end of a connection keep Beast's codes (boost/beast/http/error.hpp),
// which the sessions already tell apart.

#include <boost/system/error_code.hpp>
#include <type_traits>

namespace duet::router {

enum class HttpParseError {
  bad_line_ending = 1,
  bad_method,
  bad_target,
  bad_version,
  bad_status_line,
  bad_field_name,
  folded_field,
  bad_field_value,
  bad_connection,
  bad_content_length,
  bad_transfer_encoding,
  length_and_chunked,
  bad_chunk_size,
  bad_chunk_extension,
  bad_chunk_end,
  bad_trailer,
};

const boost::system::error_category& http_parse_category() noexcept;

inline boost::system::error_code make_error_code(HttpParseError e) noexcept {
  return {static_cast<int>(e), http_parse_category()};
}

}  // namespace duet::router

template <>
struct boost::system::is_error_code_enum<duet::router::HttpParseError> : std::true_type {};
