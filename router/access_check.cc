#include "router/access_check.h"

#include <algorithm>

#include "router/event_clock.h"
#include "router/field_scan.h"
#include "router/router_logger.h"

namespace duet::router {

namespace http = boost::beast::http;

namespace {

// The auth_reason of a 429 from the AuthFailureLimiter.
constexpr std::string_view kTooManyFailures = "too_many_failures";

// `reason` may point into a verdict about to be freed: keep the static name of it instead.
// The failure also counts against the client's address.
AccessResult refuse_token(WorkerContext& worker, std::string_view reason,
                          std::string_view client_address) {
  const auto& known = jwt::all_reasons();
  auto it = std::find(known.begin(), known.end(), reason);
  std::string_view name = it == known.end() ? jwt::reason::malformed : *it;
  worker.stats.count_auth_failure(name);
  if (worker.auth_failures.record_failure(client_address, EventClock::now())) {
    const auto& limits = worker.auth_failures.limits();
    router_logger().warn("auth_failures_limited", {{"client", client_address},
                                                   {"failures", limits.max_failures},
                                                   {"window_s", limits.window.count()}});
  }
  return {401, name, {}, {}};
}

}  // namespace

AccessResult check_access(const ProxyRequest& request, WorkerContext& worker,
                          std::string_view client_address) {
  AccessResult result;
  std::string_view subject = client_address;
  if (const auto* verifier = worker.credentials->verifier.get()) {
    const auto* header = first_field(request.fields(), http::field::authorization);
    bool has_header = header != nullptr;
    std::optional<std::string_view> token;
    if (has_header) token = jwt::bearer_token(header->value());
    auto now = std::chrono::system_clock::now();
    auto verdict = token ? worker.tokens.find(*token, now) : nullptr;
    // An address that keeps failing is refused before any signature check; a token already
    // verified (in the cache) still passes, so others behind the same address are not shut out.
    if (!verdict && (has_header || worker.credentials->jwt_required)) {
      if (auto wait =
              worker.auth_failures.blocked(client_address, EventClock::now()))
        return {429, kTooManyFailures, *wait, {}};
    }
    if (!token && has_header) return refuse_token(worker, jwt::reason::malformed, client_address);
    if (!token && worker.credentials->jwt_required)
      return refuse_token(worker, jwt::reason::missing, client_address);
    if (token) {
      if (!verdict) verdict = worker.tokens.verify(*verifier, *token, now);
      if (!verdict->ok) return refuse_token(worker, verdict->reason, client_address);
      if (!verdict->subject.empty()) subject = verdict->subject;
      result.verdict = std::move(verdict);
    }
  }
  if (worker.rate_limiter) {
    if (auto wait = worker.rate_limiter->acquire(subject, EventClock::now())) {
      result.status = 429;
      result.retry_after = *wait;
    }
  }
  return result;
}

std::string_view sticky_key(const jwt::Verdict* verdict, const std::string& claim,
                            std::string_view fallback, std::string& buffer) {
  if (!verdict || claim.empty()) return fallback;
  if (claim == "sub" && !verdict->subject.empty()) return verdict->subject;
  auto it = verdict->claims.find(claim);
  if (it == verdict->claims.end()) return fallback;
  if (it->is_string()) return it->get_ref<const std::string&>();
  if (!it->is_number()) return fallback;
  buffer = it->dump();
  return buffer;
}

StringResponse access_denied_response(const AccessResult& result, unsigned version,
                                      bool keep_alive) {
  if (result.status == 429) {
    auto response = error_response(429,
                                   result.auth_reason == kTooManyFailures
                                       ? "too many failed authentications from this address"
                                       : "rate limit exceeded for this subject",
                                   version, keep_alive);
    response.set(http::field::retry_after, std::to_string(result.retry_after.count()));
    return response;
  }
  std::string message = "invalid bearer token: ";
  message += result.auth_reason;
  auto response = error_response(401, message, version, keep_alive, "authorization");
  std::string challenge = "Bearer error=\"invalid_token\", error_description=\"";
  challenge += result.auth_reason;
  challenge += '"';
  response.set(http::field::www_authenticate, challenge);
  return response;
}

}  // namespace duet::router
