#pragma once
// What `duetctl proxy` refuses before it passes a request on with the user's own access to
// duetd (docs/security.md, "duetctl proxy"): a Host it does not serve under (DNS rebinding:
// a page of evil.example whose name now resolves to 127.0.0.1), and requests another site
// sent (cross-site request forgery: the proxy adds the credentials, so a request's origin is
// all that tells the user's page from someone else's).

#include <optional>
#include <string>
#include <vector>

#include "duet/common/address.h"
#include "duet/common/http_server.h"

namespace duet::ctl {

class ProxyGuard {
 public:
  // Accepts Host headers naming localhost, 127.0.0.1, [::1], the listening host, and
  // `extra_hosts` (--accept-hosts), with or without a port.
  ProxyGuard(const Address& listening, const std::vector<std::string>& extra_hosts);

  // nullopt: pass the request on; else why it is refused (a 403).
  std::optional<std::string> refusal(const http::RequestHeader& header) const;

 private:
  std::vector<std::string> hosts_;
};

// The address's host as a URL or a Host header writes it: "127.0.0.1", "[::1]".
std::string url_host(const Address& address);

// The host of a Host header value: "127.0.0.1:8001" → "127.0.0.1", "[::1]:8001" → "[::1]".
std::string host_without_port(std::string_view host_header);

}  // namespace duet::ctl
