#pragma once
// Every answer duet-sim writes, errors included, is made here so that each carries
// `x-duet-replica: <name>` (how tests and the router see which replica served a request).

#include <memory>
#include <string>
#include <string_view>

#include "duet/common/http_server.h"

namespace duet::sim {

inline constexpr std::string_view kReplicaHeader = "x-duet-replica";

class Replies {
 public:
  // Set once, before the server runs: the name may depend on the port bound.
  void set_replica(std::string name) { replica_ = std::move(name); }
  const std::string& replica() const { return replica_; }

  http::Response response(http::bhttp::status status, std::string body,
                          std::string_view content_type = "application/json") const;
  // The header of an SSE stream.
  http::ResponseHeader stream_header() const;

  void send(http::Exchange& exchange, http::bhttp::status status, std::string body,
            std::string_view content_type = "application/json") const;
  // An error in the OpenAI shape naming `param` (a field) when given.
  void send_error(http::Exchange& exchange, int status, std::string_view message,
                  std::string_view param = {}) const;

 private:
  std::string replica_;
};

}  // namespace duet::sim
