#pragma once
// Header rewriting between client and engine: hop-by-hop fields are dropped both ways, the
// engine gets a keep-alive HTTP/1.1 request, and the client's response names who served it.

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string_view>

namespace duet::router {

using ProxyRequest = boost::beast::http::request<boost::beast::http::string_body>;
using RelayedResponse = boost::beast::http::response<boost::beast::http::buffer_body>;

// Turns the client's request into the one sent upstream (in place).
void prepare_upstream_request(ProxyRequest& request, std::string_view client_address);

// Who served a response: the x-duet-* headers of SPEC §5 step 9.
struct ServedBy {
  std::string_view route;
  std::string_view backend;  // deployment/replica
  std::string_view version;  // stable | canary
};

// Turns the engine's response header into the client's (in place). `upstream_body_until_eof`:
// the engine ends the body by closing; an HTTP/1.1 client then gets it chunked instead.
void prepare_client_response(RelayedResponse& response, unsigned client_version,
                             bool client_keep_alive, bool upstream_body_until_eof,
                             const ServedBy& served_by);

}  // namespace duet::router
