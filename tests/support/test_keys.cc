#include "support/test_keys.h"

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "duet/base64url.h"

namespace duet::test {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string private_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return pem;
}

std::string bn_param(EVP_PKEY* key, const char* name, int pad = 0) {
  BIGNUM* bn = nullptr;
  if (!EVP_PKEY_get_bn_param(key, name, &bn)) throw std::runtime_error("no key parameter");
  std::string bytes(pad ? pad : BN_num_bytes(bn), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  BN_free(bn);
  return base64url_encode(bytes);
}

}  // namespace

SigningKey make_rsa_key(const std::string& kid) {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  if (!key) throw std::runtime_error("RSA keygen failed");
  return {kid,
          "RS256",
          private_pem(key.get()),
          {{"kty", "RSA"},
           {"kid", kid},
           {"alg", "RS256"},
           {"use", "sig"},
           {"n", bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N)},
           {"e", bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E)}}};
}

SigningKey make_ec_key(const std::string& kid) {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) throw std::runtime_error("EC keygen failed");
  return {kid,
          "ES256",
          private_pem(key.get()),
          {{"kty", "EC"},
           {"kid", kid},
           {"alg", "ES256"},
           {"crv", "P-256"},
           {"x", bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32)},
           {"y", bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32)}}};
}

nlohmann::json jwks(std::initializer_list<const SigningKey*> keys) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto* k : keys) list.push_back(k->jwk);
  return {{"keys", list}};
}

std::string mint(const SigningKey& key, const nlohmann::json& claims) {
  jwt_t* raw = nullptr;
  jwt_new(&raw);
  std::unique_ptr<jwt_t, decltype(&jwt_free)> token(raw, jwt_free);
  jwt_add_grants_json(token.get(), claims.dump().c_str());
  jwt_add_header(token.get(), "kid", key.kid.c_str());
  if (jwt_set_alg(token.get(), jwt_str_alg(key.alg.c_str()),
                  reinterpret_cast<const unsigned char*>(key.private_pem.data()),
                  static_cast<int>(key.private_pem.size())) != 0)
    throw std::runtime_error("jwt_set_alg failed");
  std::unique_ptr<char, decltype(&std::free)> encoded(jwt_encode_str(token.get()), std::free);
  if (!encoded) throw std::runtime_error("jwt_encode_str failed");
  return encoded.get();
}

std::string forge(const nlohmann::json& header, const nlohmann::json& claims,
                  const std::string& signature) {
  std::string token = base64url_encode(header.dump());
  token += '.';
  token += base64url_encode(claims.dump());
  token += '.';
  token += base64url_encode(signature);
  return token;
}

int64_t epoch_seconds(std::chrono::seconds offset) {
  auto now = std::chrono::system_clock::now() + offset;
  return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
}

void write_self_signed(const std::filesystem::path& cert_path,
                       const std::filesystem::path& key_path, const std::string& common_name,
                       bool rsa) {
  Pkey key(rsa ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048})
               : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), static_cast<long>(epoch_seconds()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* san =
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
  X509_add_ext(cert.get(), san, -1);
  X509_EXTENSION_free(san);
  if (!X509_sign(cert.get(), key.get(), EVP_sha256())) throw std::runtime_error("X509_sign");
  // Written aside and renamed, so that a router watching the files never reads half of one.
  auto write = [](const std::filesystem::path& path, auto&& writer) {
    auto tmp = path;
    tmp += ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f || !writer(f)) throw std::runtime_error(std::string("cannot write ") + tmp.string());
    std::fclose(f);
    std::filesystem::rename(tmp, path);
  };
  write(key_path, [&](FILE* f) {
    return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  });
  write(cert_path, [&](FILE* f) { return PEM_write_X509(f, cert.get()) == 1; });
}

}  // namespace duet::test
