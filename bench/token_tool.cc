// duet-bench-token: a fresh EC P-256 key, its JWKS for duet-router's auth.jwt.jwks, and
// ES256 tokens signed with it, one per line (sub user-0 … user-N-1, valid for a day), so the
// load carries real tokens that the router verifies. `duetctl token create` signs HS256 only.
// Usage: duet-bench-token DIR [COUNT]  →  DIR/jwks.json, DIR/tokens.txt
#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "duet/base64url.h"

namespace {

using nlohmann::json;

constexpr const char* kKid = "bench-es256";

std::string private_pem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// A JWK coordinate: the big-endian bytes, padded to the curve size, base64url.
std::string coordinate(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (!EVP_PKEY_get_bn_param(key, name, &bn)) throw std::runtime_error("no EC coordinate");
  std::string bytes(32, '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), 32);
  BN_free(bn);
  return duet::base64url_encode(bytes);
}

std::string mint(const std::string& pem, const json& claims) {
  jwt_t* raw = nullptr;
  jwt_new(&raw);
  std::unique_ptr<jwt_t, decltype(&jwt_free)> token(raw, jwt_free);
  jwt_add_grants_json(token.get(), claims.dump().c_str());
  jwt_add_header(token.get(), "kid", kKid);
  if (jwt_set_alg(token.get(), JWT_ALG_ES256, reinterpret_cast<const unsigned char*>(pem.data()),
                  static_cast<int>(pem.size())) != 0)
    throw std::runtime_error("jwt_set_alg failed");
  std::unique_ptr<char, decltype(&std::free)> encoded(jwt_encode_str(token.get()), std::free);
  if (!encoded) throw std::runtime_error("jwt_encode_str failed");
  return encoded.get();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: duet-bench-token DIR [COUNT]\n";
    return 2;
  }
  std::string dir = argv[1];
  int count = argc == 3 ? std::stoi(argv[2]) : 16;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
  if (!key) throw std::runtime_error("EC keygen failed");
  json jwk = {{"kty", "EC"},
              {"kid", kKid},
              {"alg", "ES256"},
              {"use", "sig"},
              {"crv", "P-256"},
              {"x", coordinate(key.get(), OSSL_PKEY_PARAM_EC_PUB_X)},
              {"y", coordinate(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y)}};
  std::ofstream(dir + "/jwks.json") << json{{"keys", json::array({jwk})}}.dump() << "\n";

  auto exp = std::chrono::duration_cast<std::chrono::seconds>(
                 (std::chrono::system_clock::now() + std::chrono::hours(24)).time_since_epoch())
                 .count();
  std::string pem = private_pem(key.get());
  std::ofstream tokens(dir + "/tokens.txt");
  for (int i = 0; i < count; ++i)
    tokens << mint(pem, {{"sub", "user-" + std::to_string(i)},
                         {"iss", "https://bench.duet"},
                         {"aud", "duet"},
                         {"exp", exp}})
           << "\n";
}
