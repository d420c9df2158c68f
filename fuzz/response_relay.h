#pragma once
// How duet-router relays an engine's response (router/upstream_relay_impl.h: await_response,
// parse_response, skip_interim, start_response, pass_on, complete) without the sockets: the
// engine's bytes arrive in reads cut where the target says, the header and each body piece are written to the
// client as the relay writes them, and at the end the engine connection goes back to the
// pool or not. The parsing is the relay's own ResponseParser (router/response_parser.h);
// the steps around it mirror the relay's.

#include <string>
#include <string_view>

#include "http_checks.h"
#include "router/forward_headers.h"

namespace duet::fuzz {

// The request the response answers, and the client's connection.
struct RelayContext {
  bool head_request = false;
  unsigned client_version = 11;
  bool client_keep_alive = true;
  std::vector<std::size_t> cuts;  // where the engine's reads end (cut_points; none: all at once)
};

inline constexpr router::ServedBy kServedBy{"route-a", "deploy-a/replica-0", "stable"};

struct RelayRun {
  bool response_started = false;  // the header went to the client: no retry any more
  int interim = 0;                // 1xx responses skipped before the final one
  std::string error;              // why the relay ended early; empty when it completed
  int status = 0;
  std::string reason;
  FieldList engine_fields;
  router::EngineFraming engine;
  router::ClientFraming client;  // client.keep_alive is false after a failure
  std::string body;              // the body bytes passed on
  std::string client_wire;       // everything written to the client
  bool pooled = false;           // the engine connection is kept for the next request

  // All but client_wire (whose chunking follows the reads) and pooled (bytes after the
  // response keep the connection out of the pool only when they came with it).
  bool same_outcome(const RelayRun& other) const;
  std::string describe() const;
};

RelayRun relay_response(std::string_view engine_bytes, const RelayContext& context);

}  // namespace duet::fuzz
