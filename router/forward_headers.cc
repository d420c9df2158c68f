#include "router/forward_headers.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <string>

#include "router/wire_format.h"

namespace duet::router {

namespace http = boost::beast::http;
using boost::beast::iequals;

namespace {

constexpr std::string_view kForwardedFor = "x-forwarded-for";

// RFC 7230 §6.1: fields for one connection only, plus those its Connection header names
// (`connection` is that header's value; most messages have none).
bool hop_by_hop(const http::fields::value_type& field, std::string_view connection) {
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
  if (connection.empty()) return false;
  for (auto token : http::token_list(connection))
    if (iequals(token, field.name_string())) return true;
  return false;
}

bool named(const http::fields::value_type& field, std::string_view name) {
  return field.name() == http::field::unknown && iequals(field.name_string(), name);
}

}  // namespace

void append_upstream_request(std::string& out, const ProxyRequest& request,
                             std::string_view client_ip, bool trusted_proxy) {
  std::string_view connection = request[http::field::connection];
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
  std::string_view connection = header[http::field::connection];
  append_status_line(out, client_version, header.result_int(), header.reason());
  for (const auto& field : header) {
    if (hop_by_hop(field, connection)) continue;
    auto name = field.name();
    if (name == http::field::transfer_encoding) continue;  // written below when chunked
    if (name == http::field::content_length && unknown_length) continue;
    if (named(field, "x-duet-route") || named(field, "x-duet-backend") ||
        named(field, "x-duet-version"))
      continue;
    append_field(out, field.name_string(), field.value());
  }
  if (client.chunked) append_field(out, "Transfer-Encoding", "chunked");
  if (client_version >= 11 && !client.keep_alive) append_field(out, "Connection", "close");
  if (client_version < 11 && client.keep_alive) append_field(out, "Connection", "keep-alive");
  append_field(out, "x-duet-route", served_by.route);
  append_field(out, "x-duet-backend", served_by.backend);
  append_field(out, "x-duet-version", served_by.version);
  out += "\r\n";
  return client;
}

}  // namespace duet::router
