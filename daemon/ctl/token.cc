// `duetctl token create --sub NAME --ttl 1h --secret-file F [--iss I] [--aud A]`: mints an
// HS256 JWT for tests and for a TCP node API or router configured with that secret.
#include <chrono>
#include <iostream>

#include "daemon/ctl/commands.h"
#include "daemon/manifest/parser.h"
#include "duet/jwt.h"

namespace duet::ctl {

int token_create(const TokenRequest& request) {
  if (request.subject.empty()) throw UsageError("token create needs --sub NAME");
  if (request.secret_file.empty()) throw UsageError("token create needs --secret-file FILE");
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
  if (!request.audience.empty()) claims["aud"] = request.audience;
  std::cout << jwt::mint_hs256(secret, claims) << "\n";
  return 0;
}

}  // namespace duet::ctl
