#pragma once
// Keys and tokens for tests of JWT and TLS: RSA and EC signing keys with their JWK, tokens
// signed by them (libjwt) or forged by hand (alg none, bad signatures), and a self-signed
// certificate for 127.0.0.1, all made with OpenSSL at test time.

#include <filesystem>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace duet::test {

// An HS256 secret long enough for duetd's --auth-secret-file (32 bytes at least).
inline constexpr std::string_view kHs256Secret = "a-long-enough-test-secret-of-32-bytes";

struct SigningKey {
  std::string kid;
  std::string alg;          // RS256 | ES256
  std::string private_pem;  // PKCS#8
  nlohmann::json jwk;  // the public half, as a JWKS lists it (kty, kid, alg, use, n/e or crv/x/y)
};

// Fresh keys (RSA 2048, EC P-256).
SigningKey make_rsa_key(const std::string& kid);
SigningKey make_ec_key(const std::string& kid);

// {"keys": [...]} of the public halves.
nlohmann::json jwks(std::initializer_list<const SigningKey*> keys);

// A token signed with `key`, its kid in the header.
std::string mint(const SigningKey& key, const nlohmann::json& claims);
// A token put together by hand: base64url(header).base64url(claims).base64url(signature).
std::string forge(const nlohmann::json& header, const nlohmann::json& claims,
                  const std::string& signature = {});

// Seconds since the epoch, `offset` from now, for exp/nbf claims.
int64_t epoch_seconds(std::chrono::seconds offset = std::chrono::seconds(0));

// Writes a self-signed certificate for 127.0.0.1 and localhost and its key as PEM; the key is
// EC P-256, or RSA 2048 with `rsa` (for TLS 1.2 ECDHE-RSA suites).
void write_self_signed(const std::filesystem::path& cert, const std::filesystem::path& key,
                       const std::string& common_name = "duet-test", bool rsa = false);

}  // namespace duet::test
