// Engine responses as duet-router relays them (router/response_parser.h in fuzz/response_relay.h's
// mirror of router/upstream_relay_impl.h), for a GET or HEAD from an HTTP/1.1 or 1.0 client.
// Checks, differential where it can be:
// - the outcome, failures and their reasons included, does not depend on how TCP splits the
//   engine's bytes (but for how much of a body that fails went out before it did);
// - it agrees with Beast's plain parse of the whole response (string_body), 1xx skipped,
//   and the client's header carries the engine's header fields, none of its trailer's;
// - what the client gets (router/forward_headers.cc append_client_response_head,
//   router/wire_format.cc) parses back to the same status, reason, end-to-end fields and
//   body, with nothing after it, and says keep-alive exactly when the router keeps the
//   connection; a response cut short never looks complete to the client unless its framing
//   is "until close";
// - a 1xx is never the client's final answer (issue 15 row 1).

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>

#include "fuzz_check.h"
#include "response_relay.h"

namespace {

using namespace duet::fuzz;
namespace http = boost::beast::http;

struct Parsed {
  boost::beast::error_code ec;
  bool done = false;
  std::size_t used = 0;
  bool header_seen = false;
  FieldList header_fields;  // before any trailer (the parser adds a trailer's fields)
  http::response<http::string_body> message;
};

// Beast's parse of a whole response; `closed`: the peer closes after these bytes.
Parsed parse_whole(std::string_view bytes, bool head_request, bool closed) {
  http::response_parser<http::string_body> parser;
  parser.skip(head_request);
  parser.header_limit(64 * 1024);
  // No body can be longer than the input: a larger Content-Length is refused before
  // string_body would reserve it (an allocation the size of any number the engine sends).
  parser.body_limit(bytes.size());
  Parsed p;
  while (!p.ec && !parser.is_done() && p.used < bytes.size()) {
    std::size_t n =
        parser.put(boost::asio::buffer(bytes.data() + p.used, bytes.size() - p.used), p.ec);
    p.used += n;
    if (p.ec == http::error::need_more) p.ec = {};
    // Not eager: the put() that ends the header stops there.
    if (parser.is_header_done() && !p.header_seen) {
      p.header_seen = true;
      p.header_fields = fields_of(parser.get());
    }
    if (n == 0) break;
  }
  if (!p.ec && !parser.is_done() && closed) {
    if (parser.got_some())
      parser.put_eof(p.ec);
    else
      p.ec = http::error::end_of_stream;
  }
  p.done = !p.ec && parser.is_done();
  if (parser.is_header_done()) p.message = parser.release();
  return p;
}

bool router_named(const std::string& name) {
  return iequal(name, "x-duet-route") || iequal(name, "x-duet-backend") ||
         iequal(name, "x-duet-version");
}

// The fields that must pass unchanged: not hop-by-hop (as the Connection lines of
// `connection_from` say), not framing, not the router's own.
FieldList end_to_end(const FieldList& fields, const FieldList& connection_from) {
  return without(fields, [&](const std::string& name) {
    return is_hop_by_hop(name, connection_from) || iequal(name, "transfer-encoding") ||
           iequal(name, "content-length") || router_named(name);
  });
}

void check_against_beast(std::string_view bytes, const RelayContext& context, const RelayRun& run) {
  Parsed ref = parse_whole(bytes, context.head_request, true);
  int interim = 0;
  while (ref.done && ref.message.result_int() / 100 == 1 && ref.message.result_int() != 101) {
    bytes.remove_prefix(ref.used);
    ref = parse_whole(bytes, context.head_request, true);
    ++interim;
  }
  if (!run.error.empty() || beast_refuses_what_is_dropped(ref.ec, run.engine.chunked)) return;
  DUET_FUZZ_CHECK(interim == run.interim, run.describe());
  DUET_FUZZ_CHECK(ref.done, "Beast refuses what the relay passed on: " + ref.ec.message());
  DUET_FUZZ_CHECK(ref.message.result_int() == static_cast<unsigned>(run.status), run.describe());
  // The client's header is the engine's header: a trailer's fields are not in it.
  DUET_FUZZ_CHECK(ref.header_fields == grouped_as_beast(run.engine_fields),
                  "engine header [" + to_text(ref.header_fields) + "] relayed [" +
                      to_text(run.engine_fields) + "]");
  DUET_FUZZ_CHECK(ref.message.body() == run.body, run.describe());
}

void check_served_by(const FieldList& fields) {
  for (const auto& expected :
       {std::pair{"x-duet-route", kServedBy.route}, std::pair{"x-duet-backend", kServedBy.backend},
        std::pair{"x-duet-version", kServedBy.version}}) {
    FieldList named =
        without(fields, [&](const std::string& n) { return !iequal(n, expected.first); });
    DUET_FUZZ_CHECK(named.size() == 1 && named[0].second == expected.second, to_text(fields));
  }
}

void check_client_view(const RelayContext& context, const RelayRun& run) {
  if (!run.response_started) return;  // the client gets the router's own 502
  bool closed = !run.client.keep_alive;
  Parsed got = parse_whole(run.client_wire, context.head_request, closed);
  if (!run.error.empty()) {
    // Cut short: only a body framed by the connection's end cannot tell.
    bool until_close = got.done && !got.message.chunked() && !got.message.has_content_length();
    DUET_FUZZ_CHECK(!got.done || until_close, "a cut response looks whole:\n" + run.client_wire);
    return;
  }
  DUET_FUZZ_CHECK(got.done, "the client cannot read the response (" + got.ec.message() + "):\n" +
                                run.client_wire);
  DUET_FUZZ_CHECK(got.used == run.client_wire.size(),
                  "bytes after the response:\n" + run.client_wire);
  const auto& m = got.message;
  DUET_FUZZ_CHECK(m.result_int() == static_cast<unsigned>(run.status), run.client_wire);
  DUET_FUZZ_CHECK(run.reason.empty() || m.reason() == run.reason, run.client_wire);
  DUET_FUZZ_CHECK(m.version() == context.client_version, run.client_wire);
  DUET_FUZZ_CHECK(m.keep_alive() == run.client.keep_alive, run.client_wire);
  DUET_FUZZ_CHECK(m.body() == run.body, run.client_wire);
  FieldList fields = fields_of(m);
  // The engine's Connection lines decide what was hop-by-hop; the router's own (`close`)
  // must not hide an engine field that happens to have that name (issue 15, found by this
  // target: `close: forged`), nor a field the engine named pass unnoticed.
  DUET_FUZZ_CHECK(
      end_to_end(fields, {}) == grouped_as_beast(end_to_end(run.engine_fields, run.engine_fields)),
      "client got [" + to_text(fields) + "] engine sent [" + to_text(run.engine_fields) + "]");
  check_served_by(fields);
  DUET_FUZZ_CHECK(run.status / 100 != 1,
                  "a 1xx relayed as the final response:\n" + run.client_wire);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  uint64_t hash = input_hash(bytes);
  RelayContext context;
  context.head_request = (hash & 7) == 0;
  context.client_version = (hash >> 3) % 4 == 0 ? 10 : 11;
  context.client_keep_alive = ((hash >> 5) & 3) != 0;
  RelayRun whole = relay_response(bytes, context);
  context.cuts = cut_points(hash >> 7, size);
  RelayRun split = relay_response(bytes, context);
  // Of a body that fails, what went out before depends on the reads: the rest must not.
  if (!whole.error.empty()) split.body = whole.body;
  DUET_FUZZ_CHECK(whole.same_outcome(split), whole.describe() + " vs " + split.describe());
  check_against_beast(bytes, context, whole);
  check_client_view(context, whole);
  return 0;
}
