#pragma once
// SPEC §5 steps 2 and 3 on a request's header, before its body is read: the JWT (from the
// worker's token cache, else verified and cached; an address with too many recent failures
// gets 429 instead), then the per-subject rate limit.

#include <chrono>
#include <string>
#include <string_view>

#include "router/forward_headers.h"
#include "router/local_reply.h"
#include "router/worker_context.h"

namespace duet::router {

struct AccessResult {
  int status = 0;                       // 0: let through; else 401 or 429
  // For a 401: the duet_router_auth_failures_total reason; for a 429 of the
  // AuthFailureLimiter (too many failures from the client's address): "too_many_failures".
  std::string_view auth_reason;
  std::chrono::seconds retry_after{0};  // for a 429
  std::shared_ptr<const jwt::Verdict> verdict;  // the token's, when one was verified
};

// `client_address` is the client's IP: the rate-limit subject of requests without a token.
AccessResult check_access(const ProxyRequest& request, WorkerContext& worker,
                          std::string_view client_address);

// The stickiness key of a request: the value of the token's `claim` (string or number;
// `buffer` holds a number's text), else `fallback` (the client address).
std::string_view sticky_key(const jwt::Verdict* verdict, const std::string& claim,
                            std::string_view fallback, std::string& buffer);

// The reply to a refused request, in the OpenAI error shape, with WWW-Authenticate (401)
// or Retry-After (429).
StringResponse access_denied_response(const AccessResult& result, unsigned version,
                                      bool keep_alive);

}  // namespace duet::router
