// `duetctl token create --sub NAME [--scope S] --ttl 1h --secret-file F [--iss I] [--aud A]`:
// mints an HS256 JWT for a router's users, or with --scope for a TCP node API (audience
// `duetd` unless --aud says otherwise), signed with the secret that one is configured with.
#include <chrono>
#include <iostream>

#include "daemon/api/api_scope.h"
#include "daemon/ctl/commands.h"
#include "daemon/manifest/parser.h"
#include "duet/jwt.h"

namespace duet::ctl {

namespace {

// The `scope` claim: the names given, space-separated; each must be a node-API scope.
std::string scope_claim(const std::vector<std::string>& given) {
  std::string claim;
  for (const auto& list : given) {
    std::size_t at = 0;
    while (at <= list.size()) {
      auto comma = std::min(list.find(',', at), list.size());
      auto name = list.substr(at, comma - at);
      at = comma + 1;
      if (name.empty()) continue;
      bool known = false;
      for (auto s : {daemon::Scope::read, daemon::Scope::report, daemon::Scope::write,
                     daemon::Scope::admin})
        known = known || name == daemon::scope_name(s);
      if (!known)
        throw UsageError("--scope: unknown scope \"" + name +
                         "\" (duet.read, duet.report, duet.write, duet.admin)");
      claim += (claim.empty() ? "" : " ") + name;
    }
  }
  return claim;
}

}  // namespace

int token_create(const TokenRequest& request) {
  if (request.subject.empty()) throw UsageError("token create needs --sub NAME");
  if (request.secret_file.empty()) throw UsageError("token create needs --secret-file FILE");
  std::string scope = scope_claim(request.scopes);
  int64_t ttl = 0;
  try {
    ttl = manifest::parse_duration_seconds(request.ttl);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--ttl: ") + e.what());
  }
  std::string secret;
  try {
    secret = jwt::load_hmac_secret(request.secret_file);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch()).count();
  nlohmann::json claims = {{"sub", request.subject}, {"iat", now}, {"nbf", now}, {"exp", now + ttl}};
  if (!request.issuer.empty()) claims["iss"] = request.issuer;
  // A scope makes it a node-API token, whose audience is duetd unless --aud says otherwise.
  std::string audience = request.audience.empty() && !scope.empty() ? "duetd" : request.audience;
  if (!audience.empty()) claims["aud"] = audience;
  if (!scope.empty()) claims["scope"] = scope;
  std::cout << jwt::mint_hs256(secret, claims) << "\n";
  return 0;
}

}  // namespace duet::ctl
