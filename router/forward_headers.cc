#include "router/forward_headers.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <string>
#include <utility>

#include "router/wire_format.h"

namespace duet::router {

namespace http = boost::beast::http;
using boost::beast::iequals;

namespace {

constexpr std::string_view kForwardedFor = "x-forwarded-for";

// The Connection header's lines: each one names more hop-by-hop fields (RFC 9110 §7.6.1).
// Most messages have none or one; the range is looked up once a message, not a field.
class ConnectionOptions {
 public:
  explicit ConnectionOptions(const http::fields& fields)
      : lines_(fields.equal_range(http::field::connection)) {}

  bool name(std::string_view field_name) const {
    // Beast's range runs in header order from the first Connection line to the last, with
    // any other fields between: only the Connection lines count.
    for (auto line = lines_.first; line != lines_.second; ++line) {
      if (line->name() != http::field::connection) continue;
      for (auto token : http::token_list(line->value()))
        if (iequals(token, field_name)) return true;
    }
    return false;
  }

 private:
  std::pair<http::fields::const_iterator, http::fields::const_iterator> lines_;
};

// RFC 7230 §6.1: fields for one connection only, plus those its Connection lines name.
bool hop_by_hop(const http::fields::value_type& field, const ConnectionOptions& connection) {
  switch (field.name()) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_connection:
    case http::field::te:
    case http::field::trailer:
    case http::field::upgrade:
      return true;
    default:
      break;
  }
  return connection.name(field.name_string());
}

bool named(const http::fields::value_type& field, std::string_view name) {
  return field.name() == http::field::unknown && iequals(field.name_string(), name);
}

}  // namespace

void append_upstream_request(std::string& out, const ProxyRequest& request,
                             std::string_view client_ip, bool trusted_proxy) {
  ConnectionOptions connection(request);
  append_request_line(out, request.method_string(), request.target(), 11);
  std::string forwarded_for;
  for (const auto& field : request) {
    if (hop_by_hop(field, connection)) continue;
    switch (field.name()) {
      case http::field::transfer_encoding:  // the body goes whole, with a length
      case http::field::content_length:
      case http::field::expect:
      case http::field::authorization:
      case http::field::proxy_authorization:
        continue;
      default:
        break;
    }
    if (named(field, kForwardedFor)) {
      if (trusted_proxy) forwarded_for.append(field.value()).append(", ");
      continue;
    }
    append_field(out, field.name_string(), field.value());
  }
  // Only a trusted proxy's list is passed on: anyone else could write a forged first hop.
  append_field(out, kForwardedFor, forwarded_for.append(client_ip));
  // As Beast's prepare_payload: a length whenever there is a body or the method expects one.
  std::size_t length = request.body().size();
  auto method = request.method();
  if (length > 0 || method == http::verb::post || method == http::verb::put ||
      method == http::verb::options)
    append_field(out, "Content-Length", std::to_string(length));
  out += "\r\n";
  out += request.body();
}

ClientFraming append_client_response_head(std::string& out, const http::response_header<>& header,
                                          EngineFraming engine, unsigned client_version,
                                          bool client_keep_alive, const ServedBy& served_by) {
  bool unknown_length = engine.chunked || engine.until_eof;
  ClientFraming client;
  client.chunked = unknown_length && client_version >= 11;
  client.keep_alive = client_keep_alive && !(unknown_length && client_version < 11);
  ConnectionOptions connection(header);
  append_status_line(out, client_version, header.result_int(), header.reason());
  for (const auto& field : header) {
    if (hop_by_hop(field, connection)) continue;
    auto name = field.name();
    if (name == http::field::transfer_encoding) continue;  // written below when chunked
    if (name == http::field::content_length && unknown_length) continue;
    if (named(field, "x-duet-route") || named(field, "x-duet-backend") ||
        named(field, "x-duet-version") || named(field, "x-duet-decision"))
      continue;
    append_field(out, field.name_string(), field.value());
  }
  if (client.chunked) append_field(out, "Transfer-Encoding", "chunked");
  if (client_version >= 11 && !client.keep_alive) append_field(out, "Connection", "close");
  if (client_version < 11 && client.keep_alive) append_field(out, "Connection", "keep-alive");
  append_field(out, "x-duet-route", served_by.route);
  append_field(out, "x-duet-backend", served_by.backend);
  append_field(out, "x-duet-version", served_by.version);
  if (!served_by.decision.empty()) append_field(out, "x-duet-decision", served_by.decision);
  out += "\r\n";
  return client;
}

}  // namespace duet::router
