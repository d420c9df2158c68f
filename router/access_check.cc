#include "router/access_check.h"

#include <algorithm>

namespace duet::router {

namespace http = boost::beast::http;

namespace {

// `reason` may point into a verdict about to be freed: keep the static name of it instead.
AccessResult refuse_token(WorkerContext& worker, std::string_view reason) {
  const auto& known = jwt::all_reasons();
  auto it = std::find(known.begin(), known.end(), reason);
  std::string_view name = it == known.end() ? jwt::reason::malformed : *it;
  worker.stats.count_auth_failure(name);
  return {401, name, {}, {}};
}

}  // namespace

AccessResult check_access(const ProxyRequest& request, WorkerContext& worker,
                          std::string_view client_address) {
  AccessResult result;
  std::string_view subject = client_address;
  if (const auto* verifier = worker.credentials->verifier.get()) {
    auto header = request.base().find(http::field::authorization);
    std::optional<std::string_view> token;
    if (header != request.base().end()) token = jwt::bearer_token(header->value());
    if (!token && header != request.base().end())
      return refuse_token(worker, jwt::reason::malformed);
    if (!token && worker.credentials->jwt_required)
      return refuse_token(worker, jwt::reason::missing);
    if (token) {
      auto verdict = worker.tokens.verify(*verifier, *token, std::chrono::system_clock::now());
      if (!verdict->ok) return refuse_token(worker, verdict->reason);
      if (!verdict->subject.empty()) subject = verdict->subject;
      result.verdict = std::move(verdict);
    }
  }
  if (worker.rate_limiter) {
    if (auto wait = worker.rate_limiter->acquire(subject, std::chrono::steady_clock::now())) {
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
    auto response =
        error_response(429, "rate limit exceeded for this subject", version, keep_alive);
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
