#pragma once
// Finding a field of a message head by walking the fields in header order: a client's
// request (proxy_request.h) or an engine's response (Beast's fields). Beast's own lookups
// (find, equal_range, count, operator[], keep_alive) search an ordered set with a
// case-insensitive comparison of names: some 500 to 800 instructions each, and a proxied
// request made about a dozen (callgrind, bench/README.md). A head holds a few dozen fields
// at most (the parser's header limit), and a walk that compares each field's enumerator
// costs a fraction of one set lookup.

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <cstddef>
#include <string_view>

namespace duet::router {

// The first field named `name`, in header order (as Beast's find), or null.
template <class Fields>
auto first_field(const Fields& fields, boost::beast::http::field name)
    -> decltype(&*fields.begin()) {
  for (const auto& field : fields)
    if (field.name() == name) return &field;
  return nullptr;
}

// The same by the name's text, case-insensitively: for a field without an enumerator (a
// route's canary or session header; field_name.h), though any name is found.
template <class Fields>
auto first_field(const Fields& fields, std::string_view name) -> decltype(&*fields.begin()) {
  for (const auto& field : fields)
    if (boost::beast::iequals(field.name_string(), name)) return &field;
  return nullptr;
}

// The first such field's value; empty when there is none (as Beast's operator[]).
template <class Fields, class Name>
std::string_view field_value(const Fields& fields, const Name& name) {
  const auto* field = first_field(fields, name);
  return field ? std::string_view(field->value()) : std::string_view{};
}

// Whether a message of `version` (10, 11) with `fields` keeps its connection, as Beast's
// message::keep_alive(): HTTP/1.1 unless the first Connection line says close, HTTP/1.0 only
// when it says keep-alive.
template <class Fields>
bool keeps_alive(const Fields& fields, unsigned version) {
  namespace http = boost::beast::http;
  const auto* connection = first_field(fields, http::field::connection);
  if (version < 11) return connection && http::token_list{connection->value()}.exists("keep-alive");
  return !connection || !http::token_list{connection->value()}.exists("close");
}

}  // namespace duet::router
