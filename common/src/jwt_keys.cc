// Keys for duet::jwt: JWKS documents (RFC 7517) turned into what libjwt verifies with, a
// PEM public key for RSA and EC (through OpenSSL 3's EVP_PKEY_fromdata), the raw secret
// for `oct` keys and HMAC secret files.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <memory>
#include <stdexcept>

#include "duet/base64url.h"
#include "duet/common/file_text.h"
#include "duet/jwt.h"

namespace duet::jwt {

namespace {

using nlohmann::json;

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BigNum = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ParamBuild = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

// A key the loader cannot use; the caller adds which key of which file.
struct BadKey : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string text_member(const json& jwk, const char* name, bool required) {
  auto it = jwk.find(name);
  if (it == jwk.end() || it->is_null()) {
    if (required) throw BadKey(std::string(name) + ": required");
    return {};
  }
  if (!it->is_string()) throw BadKey(std::string(name) + ": expected a string");
  return it->get<std::string>();
}

std::string bytes_member(const json& jwk, const char* name) {
  auto decoded = base64url_decode(text_member(jwk, name, true));
  if (!decoded || decoded->empty()) throw BadKey(std::string(name) + ": not base64url");
  return *decoded;
}

BigNum big_number(const std::string& bytes) {
  return BigNum(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()), nullptr));
}

// The PEM (SubjectPublicKeyInfo) of a public key described by `params`.
std::string public_pem(const char* type, ParamBuild& build) {
  Params params(OSSL_PARAM_BLD_to_param(build.get()));
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0)
    throw BadKey(std::string("OpenSSL refused the ") + type + " key");
  Pkey key(raw);
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1)
    throw BadKey("cannot write the key as PEM");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string rsa_pem(const json& jwk) {
  BigNum n = big_number(bytes_member(jwk, "n"));
  BigNum e = big_number(bytes_member(jwk, "e"));
  ParamBuild build(OSSL_PARAM_BLD_new());
  if (!n || !e || !build || !OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, e.get()))
    throw BadKey("cannot build the RSA key");
  return public_pem("RSA", build);
}

std::string ec_p256_pem(const json& jwk) {
  if (std::string crv = text_member(jwk, "crv", true); crv != "P-256")
    throw BadKey("crv: only P-256 (ES256) is supported, got \"" + crv + "\"");
  std::string x = bytes_member(jwk, "x");
  std::string y = bytes_member(jwk, "y");
  if (x.size() != 32 || y.size() != 32) throw BadKey("x and y must be 32 bytes for P-256");
  std::string point(1, '\x04');  // uncompressed SEC1 point: 04 || x || y
  point += x;
  point += y;
  ParamBuild build(OSSL_PARAM_BLD_new());
  if (!build ||
      !OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size()))
    throw BadKey("cannot build the EC key");
  return public_pem("EC", build);
}

// One JWK; nullopt for keys that are not for signatures or of a type duet does not verify.
std::optional<Key> parse_jwk(const json& jwk) {
  if (!jwk.is_object()) throw BadKey("expected an object");
  if (text_member(jwk, "use", false) == "enc") return std::nullopt;
  Key key;
  key.kid = text_member(jwk, "kid", false);
  key.alg = text_member(jwk, "alg", false);
  std::string kty = text_member(jwk, "kty", true);
  if (kty == "RSA") {
    key.type = Key::Type::rsa;
    key.material = rsa_pem(jwk);
  } else if (kty == "EC") {
    key.type = Key::Type::ec_p256;
    key.material = ec_p256_pem(jwk);
  } else if (kty == "oct") {
    key.type = Key::Type::hmac;
    key.material = bytes_member(jwk, "k");
  } else {
    return std::nullopt;  // OKP and others: not an alg of SPEC §5
  }
  return key;
}

}  // namespace

std::vector<Key> parse_jwks(const json& jwks) {
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array())
    throw std::runtime_error("expected {\"keys\": [...]}");
  const json& list = jwks["keys"];
  std::vector<Key> keys;
  for (std::size_t i = 0; i < list.size(); ++i) {
    try {
      if (auto key = parse_jwk(list[i])) keys.push_back(std::move(*key));
    } catch (const BadKey& e) {
      const json& entry = list[i];
      bool has_kid = entry.is_object() && entry.contains("kid") && entry["kid"].is_string();
      std::string kid = has_kid ? entry["kid"].get<std::string>() : "";
      throw std::runtime_error(std::string("keys[") + std::to_string(i) + "]" +
                               (kid.empty() ? "" : " (kid \"" + kid + "\")") + ": " + e.what());
    }
  }
  return keys;
}

std::string load_hmac_secret(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) throw std::runtime_error(path + ": cannot read the HMAC secret file");
  while (!text->empty() && std::isspace(static_cast<unsigned char>(text->back()))) text->pop_back();
  if (text->empty()) throw std::runtime_error(path + ": the HMAC secret file is empty");
  return *text;
}

std::shared_ptr<const Verifier> Verifier::load(const Settings& settings) {
  std::vector<Key> keys;
  if (!settings.jwks_file.empty()) {
    auto text = read_text_file(settings.jwks_file);
    if (!text) throw std::runtime_error(settings.jwks_file + ": cannot read the JWKS file");
    auto doc = json::parse(*text, nullptr, false);
    if (doc.is_discarded()) throw std::runtime_error(settings.jwks_file + ": not JSON");
    try {
      keys = parse_jwks(doc);
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(settings.jwks_file + ": " + e.what());
    }
    if (keys.empty())
      throw std::runtime_error(settings.jwks_file + ": no RSA, EC P-256 or oct signing key");
  }
  if (!settings.hmac_secret_file.empty())
    keys.push_back({{}, Key::Type::hmac, {}, load_hmac_secret(settings.hmac_secret_file)});
  if (keys.empty()) throw std::runtime_error("JWT: neither a JWKS file nor an HMAC secret file");
  return std::make_shared<const Verifier>(settings, std::move(keys));
}

}  // namespace duet::jwt
