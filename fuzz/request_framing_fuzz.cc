// Client requests as duet-router reads them (router/request_parser.h, in the loop of
// fuzz/request_reader.h), with its default limits or the smallest ones; one connection may
// carry several requests. Checks: what is read, or the error that ends it, does not depend
// on how TCP splits the bytes; a request the router accepts keeps the framing rules of RFC
// 9112 (issue 15: one Content-Length and never with Transfer-Encoding, a Transfer-Encoding
// only when the body is chunked, no bare CR or LF in the header, a body within the limit and
// of the length announced), carries no trailer field on to the engine, and is what Beast's
// parser (the router's until 2026-12-07) reads in the same bytes.

#include <algorithm>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>

#include "fuzz_check.h"
#include "request_reader.h"

namespace {

using namespace duet::fuzz;

std::vector<std::string> values_named(const FieldList& fields, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [field, value] : fields)
    if (iequal(field, name)) out.push_back(value);
  return out;
}

bool bare_cr_or_lf(std::string_view head) {
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\r' && (i + 1 == head.size() || head[i + 1] != '\n')) return true;
    if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) return true;
  }
  return false;
}

void check_accepted(const ReadRequest& r, const duet::router::Limits& limits) {
  DUET_FUZZ_CHECK(r.header_done, r.describe());
  DUET_FUZZ_CHECK(r.raw_head.size() <= limits.max_header_bytes, r.describe());
  DUET_FUZZ_CHECK(r.body.size() <= limits.max_body_bytes, r.describe());
  DUET_FUZZ_CHECK(!bare_cr_or_lf(r.raw_head), r.raw_head);
  auto lengths = values_named(r.header_fields, "content-length");
  auto encodings = values_named(r.header_fields, "transfer-encoding");
  // RFC 9112 §6.3: repeated lengths are taken only when they are the same.
  DUET_FUZZ_CHECK(std::all_of(lengths.begin(), lengths.end(),
                              [&](const std::string& v) { return v == lengths[0]; }),
                  r.describe());
  DUET_FUZZ_CHECK(lengths.empty() || encodings.empty(), r.describe());
  DUET_FUZZ_CHECK(encodings.empty() || r.chunked, r.describe());  // else the body is smuggled
  DUET_FUZZ_CHECK(r.fields == r.header_fields,
                  "a trailer field reaches the engine: " + r.describe());
  if (r.content_length) DUET_FUZZ_CHECK(r.body.size() == *r.content_length, r.describe());
  if (!r.chunked && !r.content_length) DUET_FUZZ_CHECK(r.body.empty(), r.describe());
}

// The first request, accepted by the router, read by Beast's parser: the same request line,
// header fields and body. Beast is laxer in places (folded lines, a bare LF), stricter where
// the router drops what it does not read (chunk extensions, the trailer's fields).
void check_beast_agrees(std::string_view bytes, const ReadRequest& r,
                        const duet::router::Limits& limits) {
  namespace http = boost::beast::http;
  http::request_parser<http::string_body> beast;
  beast.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes + 64));
  beast.body_limit(limits.max_body_bytes);
  boost::system::error_code ec;
  // The header first (a parser that is not eager stops there), before the trailer's fields
  // join it; then the rest.
  std::size_t used = beast.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  DUET_FUZZ_CHECK(!ec && beast.is_header_done(),
                  "Beast refuses the header (" + ec.message() + ") " + r.describe());
  FieldList beast_fields = fields_of(beast.get());
  beast.eager(true);
  while (!ec && !beast.is_done() && used < bytes.size())
    used += beast.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
  if (beast_refuses_what_is_dropped(ec, r.chunked)) return;
  DUET_FUZZ_CHECK(!ec && beast.is_done(), "Beast refuses (" + ec.message() + ") " + r.describe());
  const auto& message = beast.get();
  DUET_FUZZ_CHECK(message.method_string() == r.method && message.target() == r.target &&
                      message.version() == r.version && message.body() == r.body,
                  r.describe());
  DUET_FUZZ_CHECK(beast_fields == grouped_as_beast(r.fields),
                  to_text(beast_fields) + " vs " + r.describe());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  uint64_t hash = input_hash(bytes);
  duet::router::Limits limits;
  if (hash & 1) {  // the smallest header limit the config accepts, and a small body limit
    limits.max_header_bytes = 1024;
    limits.max_body_bytes = 1024;
  }
  auto whole = read_requests(bytes, limits);
  auto split = read_requests(bytes, limits, cut_points(hash >> 1, size));
  DUET_FUZZ_CHECK(whole.size() == split.size(),
                  "requests read whole and in pieces differ: " + std::to_string(whole.size()) +
                      ", last " + (whole.empty() ? "-" : whole.back().describe()) + " vs " +
                      std::to_string(split.size()) + ", last " +
                      (split.empty() ? "-" : split.back().describe()));
  for (std::size_t i = 0; i < whole.size(); ++i) {
    DUET_FUZZ_CHECK(whole[i].same_as(split[i]), whole[i].describe() + " vs " + split[i].describe());
    if (whole[i].error.empty()) check_accepted(whole[i], limits);
  }
  if (!whole.empty() && whole[0].error.empty()) check_beast_agrees(bytes, whole[0], limits);
  return 0;
}
