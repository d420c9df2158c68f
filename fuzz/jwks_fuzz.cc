// JWKS documents as duet-router and duetd load them (common/src/jwt_keys.cc parse_jwks:
// RSA and EC P-256 keys to PEM through OpenSSL, oct keys to secrets). The input is the
// file's text. Checks: a document is refused only with std::runtime_error; every key it
// gives is usable, and a Verifier built from them checks the seed tokens without throwing.

#include <cstdint>
#include <stdexcept>

#include "duet/jwt.h"
#include "fuzz_check.h"

namespace {

using nlohmann::json;

// An RS256 token of make_jwt_seeds.sh's shape, and one without kid, to verify with the keys.
constexpr std::string_view kTokens[] = {
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0xIn0.eyJleHAiOjE3MDAwMDM2MDB9.c2ln",
    "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDM2MDB9.c2ln",
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjLTEifQ.eyJleHAiOjE3MDAwMDM2MDB9.c2ln",
};

void check_key(const duet::jwt::Key& key) {
  using Type = duet::jwt::Key::Type;
  DUET_FUZZ_CHECK(!key.material.empty(), key.kid);
  if (key.type != Type::hmac)
    DUET_FUZZ_CHECK(key.material.starts_with("-----BEGIN PUBLIC KEY-----"), key.material);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  json doc = json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded()) return 0;  // Verifier::load says "not JSON"
  std::vector<duet::jwt::Key> keys;
  try {
    keys = duet::jwt::parse_jwks(doc);
  } catch (const std::runtime_error&) {
    return 0;  // the file is refused with the reason: what load() promises
  }
  for (const auto& key : keys) check_key(key);
  if (keys.empty()) return 0;
  duet::jwt::Verifier verifier({}, std::move(keys));
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  for (auto token : kTokens) DUET_FUZZ_CHECK(!verifier.verify(token, now).ok, token);
  return 0;
}
