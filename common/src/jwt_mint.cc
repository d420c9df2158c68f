// Making HS256 tokens (duetctl token create, tests) and finding the token in a header.

#include <jwt.h>

#include <cctype>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "duet/jwt.h"

namespace duet::jwt {

std::optional<std::string_view> bearer_token(std::string_view header) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return std::nullopt;
  std::string_view token = header.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

std::string mint_hs256(std::string_view secret, const nlohmann::json& claims) {
  if (!claims.is_object()) throw std::runtime_error("JWT claims must be a JSON object");
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
  std::unique_ptr<jwt_t, decltype(&jwt_free)> token(raw, jwt_free);
  if (jwt_add_grants_json(token.get(), claims.dump().c_str()) != 0 ||
      jwt_set_alg(token.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                  static_cast<int>(secret.size())) != 0)
    throw std::runtime_error("cannot build the HS256 token");
  std::unique_ptr<char, decltype(&std::free)> encoded(jwt_encode_str(token.get()), std::free);
  if (!encoded) throw std::runtime_error("cannot encode the HS256 token");
  return encoded.get();
}

}  // namespace duet::jwt
