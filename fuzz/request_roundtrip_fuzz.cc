// Differential: each request the router accepts (fuzz/request_reader.h) is written as the
// engine gets it (router/forward_headers.cc append_upstream_request, router/wire_format.cc)
// and parsed again with Beast. The engine must see one whole request, nothing after it, with
// the client's method, target and body, every end-to-end header field of the client's header
// in order and unchanged, no hop-by-hop field, no trailer field, no credentials, and
// X-Forwarded-For: the client's address, after the client's own list only when the client
// is a trusted proxy. The rule for hop-by-hop fields is fuzz/http_checks.cc's own.

#include <algorithm>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>

#include "fuzz_check.h"
#include "request_reader.h"
#include "router/forward_headers.h"

namespace {

using namespace duet::fuzz;
namespace http = boost::beast::http;

constexpr std::string_view kClientIp = "192.0.2.7";

struct Forwarded {
  http::request<http::string_body> message;
  std::size_t used = 0;
};

Forwarded parse_forwarded(const std::string& wire) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(1 << 20);
  parser.body_limit(boost::none);
  parser.eager(true);
  Forwarded out;
  boost::beast::error_code ec;
  while (!ec && !parser.is_done() && out.used < wire.size())
    out.used += parser.put(boost::asio::buffer(wire.data() + out.used, wire.size() - out.used), ec);
  DUET_FUZZ_CHECK(!ec && parser.is_done(),
                  "the engine cannot parse: " + ec.message() + "\n" + wire);
  out.message = parser.release();
  return out;
}

// What the engine must get of the client's header: end-to-end fields only, none of those
// the router sets itself, and not the client's credentials (issue 15 row 9).
FieldList expected_fields(const ReadRequest& r) {
  return without(r.header_fields, [&](const std::string& name) {
    return is_hop_by_hop(name, r.header_fields) || iequal(name, "transfer-encoding") ||
           iequal(name, "content-length") || iequal(name, "expect") ||
           iequal(name, "x-forwarded-for") || iequal(name, "authorization") ||
           iequal(name, "proxy-authorization");
  });
}

void check_forwarded_for(const ReadRequest& r, bool trusted_proxy, const FieldList& got) {
  std::string client_list;
  for (const auto& [name, value] : r.header_fields)
    if (iequal(name, "x-forwarded-for")) client_list.append(value).append(", ");
  std::vector<std::string> values;
  for (const auto& [name, value] : got)
    if (iequal(name, "x-forwarded-for")) values.push_back(value);
  DUET_FUZZ_CHECK(values.size() == 1, to_text(got));
  if (!trusted_proxy) client_list.clear();
  DUET_FUZZ_CHECK(values[0] == client_list + std::string(kClientIp), values[0]);
}

void check_round_trip(const ReadRequest& r, bool trusted_proxy) {
  std::string wire;
  duet::router::append_upstream_request(wire, *r.message, kClientIp, trusted_proxy);
  Forwarded f = parse_forwarded(wire);
  DUET_FUZZ_CHECK(f.used == wire.size(), "bytes after the forwarded request:\n" + wire);
  const auto& m = f.message;
  DUET_FUZZ_CHECK(m.method_string() == r.method, wire);
  DUET_FUZZ_CHECK(m.target() == r.target, wire);
  DUET_FUZZ_CHECK(m.version() == 11, wire);
  DUET_FUZZ_CHECK(m.body() == r.body, wire);
  FieldList got = fields_of(m);
  check_forwarded_for(r, trusted_proxy, got);
  FieldList end_to_end = without(got, [](const std::string& name) {
    return iequal(name, "x-forwarded-for") || iequal(name, "content-length");
  });
  // Beast, the engine's parser here, groups fields of one name: so must what is expected.
  FieldList expected = grouped_as_beast(expected_fields(r));
  DUET_FUZZ_CHECK(end_to_end == expected,
                  "forwarded [" + to_text(end_to_end) + "] expected [" + to_text(expected) + "]");
  auto length = m.find(http::field::content_length);
  if (length != m.end())
    DUET_FUZZ_CHECK(length->value() == std::to_string(r.body.size()), wire);
  else
    DUET_FUZZ_CHECK(r.body.empty(), wire);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  bool trusted_proxy = input_hash(bytes) & 1;
  for (const auto& r : read_requests(bytes, duet::router::Limits{}))
    if (r.error.empty()) check_round_trip(r, trusted_proxy);
  return 0;
}
