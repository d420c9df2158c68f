#include "duet/jwt.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <fstream>

#include "duet/base64url.h"
#include "support/temp_dir.h"
#include "support/test_keys.h"

namespace duet::jwt {
namespace {

using namespace std::chrono_literals;
using duet::test::epoch_seconds;
using duet::test::forge;
using duet::test::mint;
using nlohmann::json;

// RSA key generation is slow under the sanitizers: one set of keys for the whole binary.
const duet::test::SigningKey& rsa_old() {
  static const auto key = duet::test::make_rsa_key("rsa-2025");
  return key;
}
const duet::test::SigningKey& rsa_new() {
  static const auto key = duet::test::make_rsa_key("rsa-2026");
  return key;
}
const duet::test::SigningKey& ec_key() {
  static const auto key = duet::test::make_ec_key("ec-1");
  return key;
}

json claims(json extra = json::object()) {
  json c = {{"sub", "alice"},
            {"iss", "https://auth.example.com"},
            {"aud", "duet"},
            {"exp", epoch_seconds(1h)},
            {"iat", epoch_seconds()}};
  c.update(extra);
  return c;
}

Settings settings() {
  Settings s;
  s.issuer = "https://auth.example.com";
  s.audience = "duet";
  s.leeway = 30s;
  return s;
}

class JwtVerifier : public ::testing::Test {
 protected:
  Verifier jwks_verifier() const {
    return Verifier(settings(), parse_jwks(duet::test::jwks({&rsa_old(), &rsa_new(), &ec_key()})));
  }
  Verifier hmac_verifier() const {
    return Verifier(settings(), {{{}, Key::Type::hmac, {}, secret_}});
  }
  std::string reason(const Verifier& v, const std::string& token) const {
    return v.verify(token, std::chrono::system_clock::now()).reason;
  }

  std::string secret_ = "s3cret-of-32-bytes-or-so-for-hs256";
};

TEST_F(JwtVerifier, Hs256TokenIsAcceptedWithItsSubjectAndExpiry) {
  auto token = mint_hs256(secret_, claims());
  auto verdict = hmac_verifier().verify(token, std::chrono::system_clock::now());
  ASSERT_TRUE(verdict.ok) << verdict.reason;
  EXPECT_EQ(verdict.subject, "alice");
  EXPECT_EQ(verdict.claims["aud"], "duet");
  auto exp =
      std::chrono::system_clock::time_point(std::chrono::seconds(claims()["exp"].get<int64_t>()));
  EXPECT_LE(std::chrono::abs(verdict.expires - (exp + 30s)), 2s);
}

TEST_F(JwtVerifier, Rs256AndEs256TokensAreCheckedAgainstTheKeyTheirKidNames) {
  auto v = jwks_verifier();
  for (const auto* key : {&rsa_old(), &rsa_new(), &ec_key()}) {
    auto verdict = v.verify(mint(*key, claims()), std::chrono::system_clock::now());
    EXPECT_TRUE(verdict.ok) << key->kid << ": " << verdict.reason;
  }
  // A token signed by one key but naming another's kid fails on the signature.
  auto swapped = duet::test::make_rsa_key("rsa-2026");
  EXPECT_EQ(reason(v, mint(swapped, claims())), reason::bad_signature);
}

TEST_F(JwtVerifier, Es256SignatureIsTheJwsRawPairNotDer) {
  auto token = mint(ec_key(), claims());
  auto signature = base64url_decode(token.substr(token.rfind('.') + 1));
  ASSERT_TRUE(signature);
  EXPECT_EQ(signature->size(), 64u);  // R || S, 32 bytes each (RFC 7518 §3.4)
}

TEST_F(JwtVerifier, TimeClaimsAllowTheLeewayAndNoMore) {
  auto v = hmac_verifier();
  EXPECT_TRUE(v.verify(mint_hs256(secret_, claims({{"exp", epoch_seconds(-20s)}})),
                       std::chrono::system_clock::now())
                  .ok);
  EXPECT_EQ(reason(v, mint_hs256(secret_, claims({{"exp", epoch_seconds(-60s)}}))),
            reason::expired);
  EXPECT_TRUE(v.verify(mint_hs256(secret_, claims({{"nbf", epoch_seconds(20s)}})),
                       std::chrono::system_clock::now())
                  .ok);
  EXPECT_EQ(reason(v, mint_hs256(secret_, claims({{"nbf", epoch_seconds(60s)}}))),
            reason::not_yet_valid);
}

TEST_F(JwtVerifier, IssuerAndAudienceMustMatchWhenConfigured) {
  auto v = hmac_verifier();
  EXPECT_EQ(reason(v, mint_hs256(secret_, claims({{"iss", "https://evil.example.com"}}))),
            reason::wrong_issuer);
  EXPECT_EQ(reason(v, mint_hs256(secret_, claims({{"aud", "other"}}))), reason::wrong_audience);
  EXPECT_TRUE(v.verify(mint_hs256(secret_, claims({{"aud", {"other", "duet"}}})),
                       std::chrono::system_clock::now())
                  .ok);
  auto no_aud = claims();
  no_aud.erase("aud");
  EXPECT_EQ(reason(v, mint_hs256(secret_, no_aud)), reason::wrong_audience);

  Verifier lax({}, {{{}, Key::Type::hmac, {}, secret_}});  // empty issuer and audience
  EXPECT_TRUE(lax.verify(mint_hs256(secret_, claims({{"iss", "x"}, {"aud", "y"}})),
                         std::chrono::system_clock::now())
                  .ok);
}

TEST_F(JwtVerifier, AlgNoneIsRefusedWhateverTheSpelling) {
  auto v = jwks_verifier();
  for (const char* alg : {"none", "None", "NONE"})
    EXPECT_EQ(reason(v, forge({{"alg", alg}, {"typ", "JWT"}}, claims())), reason::alg_none);
  EXPECT_EQ(reason(hmac_verifier(), forge({{"alg", "none"}}, claims())), reason::alg_none);
}

TEST_F(JwtVerifier, Hs256SignedWithTheRsaPublicKeyIsAnAlgMismatch) {
  // The classic confusion attack: the public key's PEM used as the HMAC secret.
  auto keys = parse_jwks(duet::test::jwks({&rsa_old()}));
  Verifier v(settings(), keys);
  EXPECT_EQ(reason(v, mint_hs256(keys[0].material, claims())), reason::alg_mismatch);
  auto with_kid = forge({{"alg", "HS256"}, {"kid", "rsa-2025"}}, claims(), "sig");
  EXPECT_EQ(reason(v, with_kid), reason::alg_mismatch);
  // An RS256 token against an HMAC-only verifier is refused the same way.
  EXPECT_EQ(reason(hmac_verifier(), mint(rsa_old(), claims())), reason::unknown_kid);
  EXPECT_EQ(reason(hmac_verifier(), forge({{"alg", "RS256"}}, claims(), "sig")),
            reason::alg_mismatch);
}

TEST_F(JwtVerifier, BadSignaturesUnknownKidsMalformedAndMissingTokens) {
  auto v = jwks_verifier();
  auto token = mint(rsa_old(), claims());
  // The payload replaced (sub: mallory), header and signature kept.
  auto first_dot = token.find('.');
  auto last_dot = token.rfind('.');
  auto tampered = token.substr(0, first_dot + 1) +
                  base64url_encode(claims({{"sub", "mallory"}}).dump()) + token.substr(last_dot);
  EXPECT_EQ(reason(v, tampered), reason::bad_signature);
  EXPECT_EQ(reason(hmac_verifier(), mint_hs256("another secret", claims())), reason::bad_signature);
  EXPECT_EQ(reason(v, forge({{"alg", "RS256"}, {"kid", "nope"}}, claims(), "sig")),
            reason::unknown_kid);
  for (std::string bad : {"garbage", "a.b", "a.b.c.d", "!!!.e30.", "e30.e30"})
    EXPECT_EQ(reason(v, bad), reason::malformed) << bad;
  EXPECT_EQ(reason(v, forge(json::array(), claims())), reason::malformed);
  EXPECT_EQ(reason(v, base64url_encode("{\"alg\":\"RS256\"}") + "." + base64url_encode("not json") +
                          ".c2ln"),
            reason::malformed);
  EXPECT_EQ(reason(v, ""), reason::missing);
}

TEST_F(JwtVerifier, HeaderFieldsOfTheWrongTypeAreMalformedNotThrown) {
  auto check = [&](const Verifier& v) {
    for (json kid : {json(42), json(), json::array({"rsa-2025"}), json::object(), json(true)})
      EXPECT_EQ(reason(v, forge({{"alg", "RS256"}, {"kid", kid}}, claims(), "sig")),
                reason::malformed)
          << kid;
    for (json alg : {json(256), json(), json::array({"RS256"})})
      EXPECT_EQ(reason(v, forge({{"alg", alg}}, claims(), "sig")), reason::malformed) << alg;
  };
  check(jwks_verifier());
  check(hmac_verifier());
}

// An HS256 token signed here, as libjwt's minting refuses some of the claims tried below.
std::string sign_hs256(const std::string& secret, const json& claims) {
  std::string input = base64url_encode(json{{"alg", "HS256"}}.dump()) + "." +
                      base64url_encode(claims.dump());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &size);
  return input + "." + base64url_encode(std::string(reinterpret_cast<char*>(mac), size));
}

TEST_F(JwtVerifier, ClaimsOfTheWrongTypeAreRefusedNotThrown) {
  auto v = hmac_verifier();
  auto refused = [&](json extra) { return reason(v, sign_hs256(secret_, claims(extra))); };
  EXPECT_TRUE(v.verify(sign_hs256(secret_, claims()), std::chrono::system_clock::now()).ok);
  EXPECT_EQ(refused({{"exp", std::to_string(epoch_seconds(1h))}}), reason::malformed);
  EXPECT_EQ(refused({{"exp", nullptr}}), reason::malformed);
  EXPECT_EQ(refused({{"nbf", json::object()}}), reason::malformed);
  EXPECT_EQ(refused({{"iss", 7}}), reason::wrong_issuer);
  EXPECT_EQ(refused({{"aud", json::object({{"duet", true}})}}), reason::wrong_audience);
  EXPECT_EQ(refused({{"aud", {1, 2}}}), reason::wrong_audience);
  EXPECT_EQ(refused({{"exp", -1e300}}), reason::expired);
  EXPECT_EQ(refused({{"exp", epoch_seconds(-1h) + 0.5}}), reason::expired);  // a fraction
  // Far-future times are clamped, not overflowed (UBSan would stop the test here).
  auto far = v.verify(sign_hs256(secret_, claims({{"exp", 1e300}, {"nbf", 0}})),
                      std::chrono::system_clock::now());
  EXPECT_TRUE(far.ok) << far.reason;
  EXPECT_EQ(refused({{"nbf", int64_t{9'000'000'000'000'000'000}}}), reason::not_yet_valid);
  auto numeric_sub = v.verify(sign_hs256(secret_, claims({{"sub", 12}})),
                              std::chrono::system_clock::now());
  EXPECT_TRUE(numeric_sub.ok);
  EXPECT_EQ(numeric_sub.subject, "");
}

TEST_F(JwtVerifier, TokenWithoutExpIsRefusedUnlessAllowed) {
  auto no_exp = claims();
  no_exp.erase("exp");
  auto token = mint_hs256(secret_, no_exp);
  EXPECT_EQ(reason(hmac_verifier(), token), reason::missing_exp);
  Settings lax = settings();
  lax.require_exp = false;
  auto verdict = Verifier(lax, {{{}, Key::Type::hmac, {}, secret_}})
                     .verify(token, std::chrono::system_clock::now());
  EXPECT_TRUE(verdict.ok) << verdict.reason;
  EXPECT_EQ(verdict.expires, std::chrono::system_clock::time_point::max());
  const auto& all = all_reasons();
  EXPECT_NE(std::find(all.begin(), all.end(), reason::missing_exp), all.end());
}

TEST_F(JwtVerifier, LoadsFilesAndNamesTheFileOnErrors) {
  duet::test::TempDir dir;
  std::ofstream(dir / "jwks.json") << duet::test::jwks({&rsa_old(), &ec_key()}).dump();
  std::ofstream(dir / "secret") << secret_ << "\n";  // the newline is not part of the secret
  Settings s = settings();
  s.jwks_file = (dir / "jwks.json").string();
  s.hmac_secret_file = (dir / "secret").string();
  auto v = Verifier::load(s);
  EXPECT_EQ(v->keys().size(), 3u);
  EXPECT_TRUE(v->verify(mint(ec_key(), claims()), std::chrono::system_clock::now()).ok);
  EXPECT_TRUE(v->verify(mint_hs256(secret_, claims()), std::chrono::system_clock::now()).ok);

  auto fails_naming = [&](const std::string& content, const std::string& expected) {
    std::ofstream(dir / "bad.json") << content;
    Settings bad = settings();
    bad.jwks_file = (dir / "bad.json").string();
    try {
      Verifier::load(bad);
      ADD_FAILURE() << "loaded " << content;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(bad.jwks_file), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  fails_naming("{not json", "not JSON");
  fails_naming(R"({"keys": [{"kty": "RSA", "kid": "k1", "n": "***", "e": "AQAB"}]})",
               "keys[0] (kid \"k1\"): n: not base64url");
  fails_naming(R"({"keys": [{"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}]})", "P-256");
  fails_naming(R"({"keys": []})", "no RSA, EC P-256 or oct signing key");
  fails_naming(R"({"keys": [{"kty": "oct", "kid": 5, "k": "c2VjcmV0"}]})",
               "keys[0]: kid: expected a string");
  Settings missing = settings();
  missing.jwks_file = (dir / "absent.json").string();
  EXPECT_THROW(Verifier::load(missing), std::runtime_error);
}

TEST(JwtBearer, FindsTheTokenOfABearerHeaderOnly) {
  EXPECT_EQ(bearer_token("Bearer abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(bearer_token("bearer   abc "), "abc");
  EXPECT_FALSE(bearer_token("Basic dXNlcjpwYXNz"));
  EXPECT_FALSE(bearer_token("Bearer "));
  EXPECT_FALSE(bearer_token(""));
}

}  // namespace
}  // namespace duet::jwt
