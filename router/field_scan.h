#pragma once
// Finding a field of a message head by walking the fields in header order. Beast's own
// lookups (find, equal_range, count, operator[], keep_alive) search an ordered set with a
// case-insensitive comparison of names: some 500 to 800 instructions each, and a proxied
// request made about a dozen (callgrind, bench/README.md). A head holds a few dozen fields
// at most (the parser's header limit), and a walk that compares each field's enumerator
// costs a fraction of one set lookup.

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/fields.hpp>
#include <cstddef>
#include <string_view>

namespace duet::router {

// The first field named `name`, in header order (as Beast's find), or null.
inline const boost::beast::http::fields::value_type* first_field(
    const boost::beast::http::fields& fields, boost::beast::http::field name) {
  for (const auto& field : fields)
    if (field.name() == name) return &field;
  return nullptr;
}

// The same by the name's text, case-insensitively: for a field Beast has no enumerator for
// (a route's canary or session header), though any name is found.
const boost::beast::http::fields::value_type* first_field(const boost::beast::http::fields& fields,
                                                          std::string_view name);

// The first such field's value; empty when there is none (as Beast's operator[]).
template <class Name>
boost::beast::string_view field_value(const boost::beast::http::fields& fields, const Name& name) {
  const auto* field = first_field(fields, name);
  return field ? field->value() : boost::beast::string_view{};
}

std::size_t count_fields(const boost::beast::http::fields& fields, boost::beast::http::field name);

// Whether a message of `version` (10, 11) with `fields` keeps its connection, as Beast's
// message::keep_alive(): HTTP/1.1 unless the first Connection line says close, HTTP/1.0 only
// when it says keep-alive.
bool keeps_alive(const boost::beast::http::fields& fields, unsigned version);

}  // namespace duet::router
