#pragma once
// What the HTTP fuzz targets compare: a message's fields as a plain list, the reference rule
// for which fields a proxy must not pass on (RFC 9110 §7.6.1, written here independently of
// router/forward_headers.cc so that the two can disagree), and the choices a target derives
// from its input (so that corpus files stay plain HTTP text).

#include <boost/beast/http/fields.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace duet::fuzz {

using FieldList = std::vector<std::pair<std::string, std::string>>;

template <class Fields>  // Beast's, or a ProxyRequest's
FieldList fields_of(const Fields& fields) {
  FieldList out;
  for (const auto& f : fields) out.emplace_back(f.name_string(), f.value());
  return out;
}
std::string to_text(const FieldList& fields);

// `fields` in the order Beast's field set keeps them: each after the last one of its name
// before it (case-insensitively), else at the end. The router keeps the order they came in.
FieldList grouped_as_beast(const FieldList& fields);

// Where Beast's parser refuses a body the router's takes: the parts the router drops unread
// (chunk extensions, whose grammar Beast checks; a trailer's fields, which Beast reads as
// the header's, so that a second Transfer-Encoding there is an error). `chunked`: the body
// came in chunks (Beast's "bad value" can then only be a trailer's).
bool beast_refuses_what_is_dropped(boost::system::error_code ec, bool chunked);

bool iequal(std::string_view a, std::string_view b);

// Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade, and every name the
// message's Connection fields list.
bool is_hop_by_hop(std::string_view name, const FieldList& message);

// `fields` without those named by `drop` (a predicate on the name).
template <class Drop>
FieldList without(const FieldList& fields, Drop drop) {
  FieldList out;
  for (const auto& f : fields)
    if (!drop(f.first)) out.push_back(f);
  return out;
}

// A number taken from the input's bytes (FNV-1a), for the choices the parse does not read
// from the text: how the bytes are split into reads, the client's HTTP version.
uint64_t input_hash(std::string_view input);

// Where the bytes are cut into reads when they come in pieces: up to three offsets taken
// from `hash`, ascending, every read at least kMinRead bytes. A few cuts keep an input's cost
// linear (reads of a few bytes each made the slow targets quadratic); over millions of runs
// every offset gets cut. No read under 5 bytes: Beast 1.81 asserts (wrongly,
// boostorg/beast#2861) when it re-enters a final chunk with trailer fields and fewer than 5
// bytes at hand; builds with NDEBUG, as the release, are not affected.
inline constexpr std::size_t kMinRead = 5;
std::vector<std::size_t> cut_points(uint64_t hash, std::size_t size);

// `bytes` cut at `cuts` (cut_points), as the reads deliver them.
std::vector<std::string_view> cut(std::string_view bytes, const std::vector<std::size_t>& cuts);

}  // namespace duet::fuzz
