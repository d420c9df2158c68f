// JWTs as duet-router and duetd check them (common/src/jwt_verifier.cc, duet::jwt::Verifier)
// with an HMAC secret (no kid, as hmacSecretFile) and a JWKS of an RSA, an EC and an oct key
// (fuzz/jwt_keys.inc, written with the seeds by fuzz/make_jwt_seeds.sh). The input is the
// token text. It is verified as it is, then (unless its header names RS256 or ES256, which
// an HMAC signature cannot pass) twice more: re-signed with the HMAC secret, so that what
// follows the signature check sees any header and payload; and re-signed with HMAC keyed by
// the RSA key's public PEM (the alg-confusion forgery), which must never pass.
// Checks: no exception, a known reason, and a token accepted only with alg HS256 or RS256
// and claims that pass a check written here (exp required, exp and nbf with the leeway, iss,
// aud).

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "duet/base64url.h"
#include "duet/jwt.h"
#include "fuzz_check.h"

namespace {

using duet::jwt::Verdict;
using duet::jwt::Verifier;
using nlohmann::json;

constexpr std::string_view kHmacSecret = "fuzz-hmac-secret-not-for-production";
constexpr std::string_view kJwks =
#include "jwt_keys.inc"
    ;
constexpr int64_t kNow = 1'700'000'000;
constexpr int64_t kLeeway = 30;
const std::string kIssuer = "https://issuer.example";
const std::string kAudience = "duet";

struct Fixture {
  std::unique_ptr<Verifier> verifier;
  std::string rsa_pem;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    std::vector<duet::jwt::Key> keys = duet::jwt::parse_jwks(json::parse(kJwks));
    Fixture out;
    for (const auto& k : keys)
      if (k.type == duet::jwt::Key::Type::rsa) out.rsa_pem = k.material;
    keys.push_back({{}, duet::jwt::Key::Type::hmac, {}, std::string(kHmacSecret)});
    duet::jwt::Settings settings;
    settings.issuer = kIssuer;
    settings.audience = kAudience;
    settings.leeway = std::chrono::seconds(kLeeway);
    out.verifier = std::make_unique<Verifier>(settings, std::move(keys));
    return out;
  }();
  return f;
}

std::string hs256(std::string_view key, std::string_view input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &size);
  return duet::base64url_encode(std::string_view(reinterpret_cast<char*>(mac), size));
}

std::optional<json> segment_json(std::string_view segment) {
  auto text = duet::base64url_decode(segment);
  if (!text) return std::nullopt;
  json value = json::parse(*text, nullptr, false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

bool audience_ok(const json& aud) {
  if (aud.is_string()) return aud == kAudience;
  return aud.is_array() && std::find(aud.begin(), aud.end(), json(kAudience)) != aud.end();
}

// What an accepted token must satisfy; a second of slack for fractional NumericDates.
void check_accepted(std::string_view token, const Verdict& v) {
  std::string_view head = token.substr(0, token.find('.'));
  std::string_view rest = token.substr(head.size() + 1);
  auto header = segment_json(head);
  auto claims = segment_json(rest.substr(0, rest.find('.')));
  DUET_FUZZ_CHECK(header && claims && header->is_object() && claims->is_object(), token);
  DUET_FUZZ_CHECK(v.reason.empty() && v.claims == *claims, token);
  const json& alg = (*header)["alg"];
  DUET_FUZZ_CHECK(alg == "HS256" || alg == "RS256", token);
  const json& exp = (*claims)["exp"];
  DUET_FUZZ_CHECK(exp.is_number() && exp.get<double>() >= kNow - kLeeway - 1, token);
  if (claims->contains("nbf")) {
    const json& nbf = (*claims)["nbf"];
    DUET_FUZZ_CHECK(nbf.is_number() && nbf.get<double>() <= kNow + kLeeway + 1, token);
  }
  DUET_FUZZ_CHECK((*claims)["iss"] == kIssuer, token);
  DUET_FUZZ_CHECK(audience_ok((*claims)["aud"]), token);
}

Verdict verify(std::string_view token) {
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(kNow));
  Verdict v = fixture().verifier->verify(token, now);
  const auto& reasons = duet::jwt::all_reasons();
  DUET_FUZZ_CHECK(v.ok || std::find(reasons.begin(), reasons.end(), v.reason) != reasons.end(),
                  "unknown reason " + v.reason);
  if (v.ok) check_accepted(token, v);
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view token(reinterpret_cast<const char*>(data), size);
  verify(token);
  // header.payload, whatever signature came with them
  auto first = token.find('.');
  auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos) return 0;
  std::string input(token.substr(0, second));
  // An HMAC signature on an RS256 or ES256 header meets the signature check with a public
  // key, as the input itself did: re-signing adds nothing there but two slow RSA or EC
  // verifications.
  auto header = segment_json(token.substr(0, first));
  if (header && header->is_object() && header->contains("alg") &&
      ((*header)["alg"] == "RS256" || (*header)["alg"] == "ES256"))
    return 0;
  verify(input + "." + hs256(kHmacSecret, input));
  Verdict forged = verify(input + "." + hs256(fixture().rsa_pem, input));
  DUET_FUZZ_CHECK(!forged.ok, "HS256 keyed with the RSA public key passed: " + input);
  return 0;
}
