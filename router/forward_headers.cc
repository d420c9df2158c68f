#include "router/forward_headers.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <charconv>
#include <string>
#include <utility>

#include "router/field_scan.h"
#include "router/wire_format.h"

namespace duet::router {

namespace http = boost::beast::http;
using boost::beast::iequals;

namespace {

constexpr std::string_view kForwardedFor = "x-forwarded-for";

// The Connection header's lines: each one names more hop-by-hop fields (RFC 9110 §7.6.1).
// Most messages have none; whether there is one is looked up once a message, not a field.
class ConnectionOptions {
 public:
  explicit ConnectionOptions(MessageHead::Fields fields)
      : fields_(fields), any_(first_field(fields, http::field::connection) != nullptr) {}

  bool name(std::string_view field_name) const {
    if (!any_) return false;
    for (const auto& line : fields_) {
      if (line.name() != http::field::connection) continue;
      for (auto token : http::token_list(line.value()))
        if (iequals(token, field_name)) return true;
    }
    return false;
  }

 private:
  MessageHead::Fields fields_;
  bool any_;
};

// RFC 7230 §6.1: fields for one connection only, plus those its Connection lines name.
bool hop_by_hop(const HeadField& field, const ConnectionOptions& connection) {
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

bool named(const HeadField& field, std::string_view name) {
  return field.name() == http::field::unknown && iequals(field.name_string(), name);
}

// The head the engine gets for the client's `request`.
void write_upstream_head(WireWriter& writer, const ProxyRequest& request,
                         std::string_view client_ip, bool trusted_proxy) {
  ConnectionOptions connection(request.fields());
  append_request_line(writer, request.method_string(), request.target(), 11);
  std::string forwarded_for;
  for (const auto& field : request.fields()) {
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
    writer.field(field.name_string(), field.value());
  }
  // Only a trusted proxy's list is passed on: anyone else could write a forged first hop.
  writer.field(kForwardedFor, forwarded_for.empty()
                                  ? client_ip
                                  : std::string_view(forwarded_for.append(client_ip)));
  // As Beast's prepare_payload: a length whenever there is a body or the method expects one.
  std::size_t length = request.body().size();
  auto method = request.method();
  if (length > 0 || method == http::verb::post || method == http::verb::put ||
      method == http::verb::options) {
    char digits[20];
    auto end = std::to_chars(digits, digits + sizeof digits, length).ptr;
    writer.field("Content-Length", {digits, static_cast<std::size_t>(end - digits)});
  }
  writer.put("\r\n");
}

}  // namespace

void append_upstream_request(std::string& out, const ProxyRequest& request,
                             std::string_view client_ip, bool trusted_proxy) {
  // Beyond the client's fields: X-Forwarded-For (a trusted proxy's list is among the fields)
  // and Content-Length.
  constexpr std::size_t kAdded = 19 + 40;
  std::size_t head = request_line_size(request.method_string(), request.target()) +
                     fields_size(request.fields()) + kAdded + client_ip.size();
  out.reserve(out.size() + head + request.body().size());  // the writer zero-fills only the head
  {
    WireWriter writer(out, head);
    write_upstream_head(writer, request, client_ip, trusted_proxy);
  }
  out += request.body();
}

ClientFraming append_client_response_head(std::string& out, const ResponseHead& header,
                                          EngineFraming engine, unsigned client_version,
                                          bool client_keep_alive, const ServedBy& served_by) {
  bool unknown_length = engine.chunked || engine.until_eof;
  ClientFraming client;
  client.chunked = unknown_length && client_version >= 11;
  client.keep_alive = client_keep_alive && !(unknown_length && client_version < 11);
  ConnectionOptions connection(header.fields());
  // Beyond the engine's fields: framing, and the x-duet-* fields.
  constexpr std::size_t kAdded = 2 * 32 + 4 * 20;
  WireWriter writer(out, status_line_size(header.reason()) + fields_size(header.fields()) + kAdded +
                             served_by.route.size() + served_by.backend.size() +
                             served_by.version.size() + served_by.decision.size());
  append_status_line(writer, client_version, header.result_int(), header.reason());
  for (const auto& field : header.fields()) {
    if (hop_by_hop(field, connection)) continue;
    auto name = field.name();
    if (name == http::field::transfer_encoding) continue;  // written below when chunked
    if (name == http::field::content_length && unknown_length) continue;
    if (named(field, "x-duet-route") || named(field, "x-duet-backend") ||
        named(field, "x-duet-version") || named(field, "x-duet-decision"))
      continue;
    writer.field(field.name_string(), field.value());
  }
  if (client.chunked) writer.field("Transfer-Encoding", "chunked");
  if (client_version >= 11 && !client.keep_alive) writer.field("Connection", "close");
  if (client_version < 11 && client.keep_alive) writer.field("Connection", "keep-alive");
  writer.field("x-duet-route", served_by.route);
  writer.field("x-duet-backend", served_by.backend);
  writer.field("x-duet-version", served_by.version);
  if (!served_by.decision.empty()) writer.field("x-duet-decision", served_by.decision);
  writer.put("\r\n");
  return client;
}

}  // namespace duet::router
