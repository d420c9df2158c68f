#pragma once
// JWT verification shared by duet-router (client tokens) and duetd (node API tokens):
// HS256, RS256 and ES256 with keys from a JWKS file (by kid) or an HMAC secret file;
// `alg: none` and an alg that does not fit the key are refused; exp (required unless turned
// off) and nbf with leeway, iss, aud. A field of the wrong JSON type is `malformed`, never a throw.

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duet::jwt {

struct Settings {
  std::string issuer;    // empty: not checked
  std::string audience;  // empty: not checked
  std::string jwks_file;
  std::string hmac_secret_file;  // trailing whitespace (a final newline) is not part of the secret
  std::chrono::seconds leeway{30};
  // A token without `exp` would be good forever (and cached until the keys change).
  bool require_exp = true;
};

// Why a token was refused; also the `reason` label of auth-failure metrics.
namespace reason {
inline constexpr std::string_view missing = "missing";
inline constexpr std::string_view malformed = "malformed";
inline constexpr std::string_view bad_signature = "bad_signature";
inline constexpr std::string_view expired = "expired";
inline constexpr std::string_view missing_exp = "missing_exp";
inline constexpr std::string_view not_yet_valid = "not_yet_valid";
inline constexpr std::string_view wrong_issuer = "wrong_issuer";
inline constexpr std::string_view wrong_audience = "wrong_audience";
inline constexpr std::string_view alg_none = "alg_none";
inline constexpr std::string_view alg_mismatch = "alg_mismatch";
inline constexpr std::string_view unknown_kid = "unknown_kid";
}  // namespace reason

// Every reason above, for metrics that want all label values from the start.
const std::vector<std::string_view>& all_reasons();

struct Verdict {
  bool ok = false;
  std::string reason;   // one of reason::*, empty when ok
  std::string subject;  // the `sub` claim, empty when absent
  // When the token stops being accepted (`exp` plus the leeway); max() without `exp`
  // (only when Settings::require_exp is off).
  std::chrono::system_clock::time_point expires = std::chrono::system_clock::time_point::max();
  nlohmann::json claims;  // the whole payload when ok (stickiness may hash any claim)
};

// One key a token may be signed with, as loaded (PEM public key or HMAC secret).
struct Key {
  enum class Type { hmac, rsa, ec_p256 };
  std::string kid;  // empty: matches tokens without kid, and is tried for them
  Type type = Type::hmac;
  std::string alg;       // the JWK's alg if it names one (must then equal the token's)
  std::string material;  // PEM (rsa, ec) or the secret bytes (hmac)
};

// Immutable once loaded: verify() is const and safe from any number of threads. A key
// reload builds a new Verifier and swaps a shared_ptr.
class Verifier {
 public:
  // Reads the JWKS file and/or the HMAC secret file. Throws std::runtime_error naming the
  // file and what is wrong (unreadable, not JSON, a key that cannot be used, no key at all).
  static std::shared_ptr<const Verifier> load(const Settings& settings);
  // The same from keys already at hand (tests, callers with their own key source).
  Verifier(Settings settings, std::vector<Key> keys);

  Verdict verify(std::string_view token, std::chrono::system_clock::time_point now) const;

  const Settings& settings() const { return settings_; }
  const std::vector<Key>& keys() const { return keys_; }

 private:
  Verdict check_claims(nlohmann::json claims, std::chrono::system_clock::time_point now) const;

  Settings settings_;
  std::vector<Key> keys_;
};

// The token of an `Authorization: Bearer <token>` header value; nullopt for another scheme
// or an empty token. The scheme is case-insensitive (RFC 7235).
std::optional<std::string_view> bearer_token(std::string_view authorization_header);

// A signed HS256 token with `claims` as payload (for `duetctl token create` and tests).
// Throws std::runtime_error when claims is not an object.
std::string mint_hs256(std::string_view secret, const nlohmann::json& claims);

// The HMAC secret in `path`, trailing whitespace removed. Throws std::runtime_error naming it.
std::string load_hmac_secret(const std::string& path);

// Keys of a JWKS document (`{"keys": [...]}`): RSA and EC P-256 keys become PEM, `oct` keys
// HMAC secrets. Throws std::runtime_error naming the key (index and kid) that is unusable.
std::vector<Key> parse_jwks(const nlohmann::json& jwks);

}  // namespace duet::jwt
