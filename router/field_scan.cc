#include "router/field_scan.h"

#include <boost/beast/http/rfc7230.hpp>

namespace duet::router {

namespace http = boost::beast::http;

const http::fields::value_type* first_field(const http::fields& fields, std::string_view name) {
  for (const auto& field : fields)
    if (boost::beast::iequals(field.name_string(), name)) return &field;
  return nullptr;
}

std::size_t count_fields(const http::fields& fields, http::field name) {
  std::size_t count = 0;
  for (const auto& field : fields) count += field.name() == name;
  return count;
}

bool keeps_alive(const http::fields& fields, unsigned version) {
  const auto* connection = first_field(fields, http::field::connection);
  if (version < 11) return connection && http::token_list{connection->value()}.exists("keep-alive");
  return !connection || !http::token_list{connection->value()}.exists("close");
}

}  // namespace duet::router
