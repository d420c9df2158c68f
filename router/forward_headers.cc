#include "router/forward_headers.h"

#include <boost/beast/http/rfc7230.hpp>
#include <string>
#include <vector>

namespace duet::router {

namespace http = boost::beast::http;

namespace {

// RFC 7230 §6.1: fields for one connection only, plus those its Connection header names.
template <class Fields>
void drop_hop_by_hop(Fields& fields) {
  std::vector<std::string> named;
  if (auto it = fields.find(http::field::connection); it != fields.end())
    for (auto token : http::token_list(it->value())) named.emplace_back(token);
  for (const auto& name : named) fields.erase(name);
  for (auto f : {http::field::connection, http::field::keep_alive, http::field::proxy_connection,
                 http::field::te, http::field::trailer, http::field::upgrade})
    fields.erase(f);
}

}  // namespace

void prepare_upstream_request(ProxyRequest& request, std::string_view client_address) {
  drop_hop_by_hop(request);
  // The body was read whole: it goes on with a Content-Length, and 100-continue was
  // already answered to the client.
  request.erase(http::field::transfer_encoding);
  request.erase(http::field::expect);
  request.version(11);
  request.keep_alive(true);
  std::string_view ip = client_address.substr(0, client_address.rfind(':'));
  if (auto it = request.find("x-forwarded-for"); it != request.end()) {
    std::string chain(it->value());
    request.set("x-forwarded-for", chain.append(", ").append(ip));
  } else {
    request.set("x-forwarded-for", ip);
  }
  request.prepare_payload();
}

void prepare_client_response(RelayedResponse& response, unsigned client_version,
                             bool client_keep_alive, bool upstream_body_until_eof,
                             const ServedBy& served_by) {
  bool chunked = response.chunked();
  drop_hop_by_hop(response);
  response.version(client_version);
  // HTTP/1.0 has no chunked coding: such a client reads the body until the connection closes.
  // (message::chunked() also drops Content-Length: call it only to change the framing.)
  bool until_close = client_version < 11 && (chunked || upstream_body_until_eof);
  if (until_close && chunked) response.chunked(false);
  if (!until_close && upstream_body_until_eof) response.chunked(true);
  bool keep_alive = client_keep_alive && !until_close;
  response.keep_alive(keep_alive);
  response.set("x-duet-route", served_by.route);
  response.set("x-duet-backend", served_by.backend);
  response.set("x-duet-version", served_by.version);
}

}  // namespace duet::router
