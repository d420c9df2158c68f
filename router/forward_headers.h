#pragma once
// Header rewriting between client and engine, done while the head is written out: one pass
// over the fields as they were read (message_head.h), nothing erased or inserted (edits of
// Beast's field set, used before, were a fifth of the proxy's instructions).
// Hop-by-hop fields are dropped both ways, the engine gets a keep-alive HTTP/1.1 request,
// and the client's response names who served it.

#include <string>
#include <string_view>

#include "router/proxy_request.h"
#include "router/response_parser.h"

namespace duet::router {


// Appends the request the engine gets for the client's `request`, body included: HTTP/1.1,
// keep-alive, the body whole with its Content-Length (100-continue was answered to the
// client already). The client's credentials (Authorization, Proxy-Authorization) are the
// router's to check, not the engine's: never passed on. X-Forwarded-For is `client_ip`,
// appended to the client's own list only when the client is a trusted proxy.
void append_upstream_request(std::string& out, const ProxyRequest& request,
                             std::string_view client_ip, bool trusted_proxy);

// Who served a response: the x-duet-* headers of SPEC §5 step 9.
struct ServedBy {
  std::string_view route;
  std::string_view backend;  // deployment/replica
  std::string_view version;  // stable | canary
  std::string_view decision = {};  // x-duet-decision (route_decision.h); empty: not sent
};

// How the engine framed its response body.
struct EngineFraming {
  bool chunked = false;
  bool until_eof = false;  // no length: the body ends when the engine closes
};

// How the client gets it.
struct ClientFraming {
  bool chunked = false;     // the router writes the body in chunks
  bool keep_alive = false;  // the client connection carries another request afterwards
};

// Appends the client's response header for the engine's `header`. An HTTP/1.1 client gets
// a body of unknown length chunked; an HTTP/1.0 one gets it until the connection closes.
ClientFraming append_client_response_head(std::string& out,
                                          const ResponseHead& header,
                                          EngineFraming engine, unsigned client_version,
                                          bool client_keep_alive, const ServedBy& served_by);

}  // namespace duet::router
