// duet::jwt::Verifier: the header is read here first (alg, kid) so that the key and the alg
// are matched before libjwt checks the signature; libjwt 1.x would otherwise accept an
// HS256 token signed with an RSA public key's PEM as the HMAC secret (alg confusion).

#include <jwt.h>

#include <algorithm>
#include <array>
#include <memory>

#include "duet/base64url.h"
#include "duet/jwt.h"

namespace duet::jwt {

namespace {

using nlohmann::json;
using Clock = std::chrono::system_clock;

struct Parts {
  json header;
  json claims;
};

Verdict refuse(std::string_view why) {
  Verdict v;
  v.reason = std::string(why);
  return v;
}

// header.payload.signature, the first two base64url JSON objects; nullopt when not.
std::optional<Parts> split(std::string_view token) {
  std::array<std::string_view, 3> segment;
  for (std::size_t i = 0; i < 3; ++i) {
    auto dot = token.find('.');
    if ((i < 2) == (dot == std::string_view::npos)) return std::nullopt;
    segment[i] = token.substr(0, dot);
    token = i < 2 ? token.substr(dot + 1) : std::string_view{};
  }
  auto header = base64url_decode(segment[0]);
  auto payload = base64url_decode(segment[1]);
  if (!header || !payload || !base64url_decode(segment[2])) return std::nullopt;
  Parts parts{json::parse(*header, nullptr, false), json::parse(*payload, nullptr, false)};
  if (!parts.header.is_object() || !parts.claims.is_object()) return std::nullopt;
  return parts;
}

bool fits(const Key& key, std::string_view alg) {
  if (!key.alg.empty() && key.alg != alg) return false;
  switch (key.type) {
    case Key::Type::hmac:
      return alg == "HS256";
    case Key::Type::rsa:
      return alg == "RS256";
    case Key::Type::ec_p256:
      return alg == "ES256";
  }
  return false;
}

bool signature_ok(const std::string& token, const Key& key) {
  jwt_t* decoded = nullptr;
  int rc = jwt_decode(&decoded, token.c_str(),
                      reinterpret_cast<const unsigned char*>(key.material.data()),
                      static_cast<int>(key.material.size()));
  if (decoded) jwt_free(decoded);
  return rc == 0;
}

// A NumericDate claim (RFC 7519 §2): absent, malformed (not a number), or a time. Seconds
// are clamped to [0, year 2255] so that adding the leeway and converting to the clock's
// nanoseconds cannot overflow.
struct TimeClaim {
  bool present = false;
  bool malformed = false;
  Clock::time_point at;
};

TimeClaim time_claim(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return {};
  if (!it->is_number()) return {true, true, {}};
  constexpr double kLatest = 9'000'000'000;  // 2255-03-14; the clock's limit is 2262
  double seconds = std::clamp(it->get<double>(), 0.0, kLatest);
  return {true, false, Clock::time_point(std::chrono::seconds(static_cast<int64_t>(seconds)))};
}

bool audience_matches(const json& aud, const std::string& expected) {
  if (aud.is_string()) return aud.get_ref<const std::string&>() == expected;
  if (!aud.is_array()) return false;
  for (const auto& a : aud)
    if (a.is_string() && a.get_ref<const std::string&>() == expected) return true;
  return false;
}

}  // namespace

const std::vector<std::string_view>& all_reasons() {
  static const std::vector<std::string_view> reasons = {
      reason::missing,     reason::malformed,     reason::bad_signature, reason::expired,
      reason::missing_exp, reason::not_yet_valid, reason::wrong_issuer,  reason::wrong_audience,
      reason::alg_none,    reason::alg_mismatch,  reason::unknown_kid};
  return reasons;
}

Verifier::Verifier(Settings settings, std::vector<Key> keys)
    : settings_(std::move(settings)), keys_(std::move(keys)) {}

Verdict Verifier::verify(std::string_view token, Clock::time_point now) const {
  if (token.empty()) return refuse(reason::missing);
  auto parts = split(token);
  if (!parts) return refuse(reason::malformed);
  const json& alg = parts->header.contains("alg") ? parts->header["alg"] : json();
  if (!alg.is_string()) return refuse(reason::malformed);
  const std::string& alg_name = alg.get_ref<const std::string&>();
  if (alg_name == "none" || alg_name == "None" || alg_name == "NONE")
    return refuse(reason::alg_none);
  // kid is optional; when present it must be a string (a number or null is not a kid).
  auto kid_field = parts->header.find("kid");
  if (kid_field != parts->header.end() && !kid_field->is_string()) return refuse(reason::malformed);
  const std::string kid =
      kid_field == parts->header.end() ? std::string() : kid_field->get<std::string>();
  bool kid_known = kid.empty();
  std::string text(token);  // libjwt wants a NUL-terminated string
  bool some_key_fits = false;
  for (const auto& key : keys_) {
    // A token without kid is tried against every key; one with a kid only against its key.
    if (!kid.empty() && key.kid != kid) continue;
    kid_known = true;
    if (!fits(key, alg_name)) continue;
    some_key_fits = true;
    if (signature_ok(text, key)) return check_claims(std::move(parts->claims), now);
  }
  if (!kid_known) return refuse(reason::unknown_kid);
  return refuse(some_key_fits ? reason::bad_signature : reason::alg_mismatch);
}

Verdict Verifier::check_claims(json claims, Clock::time_point now) const {
  auto exp = time_claim(claims, "exp");
  auto nbf = time_claim(claims, "nbf");
  if (exp.malformed || nbf.malformed) return refuse(reason::malformed);
  if (!exp.present && settings_.require_exp) return refuse(reason::missing_exp);
  if (exp.present && now > exp.at + settings_.leeway) return refuse(reason::expired);
  if (nbf.present && now + settings_.leeway < nbf.at) return refuse(reason::not_yet_valid);
  if (!settings_.issuer.empty() && claims.value("iss", json()) != json(settings_.issuer))
    return refuse(reason::wrong_issuer);
  if (!settings_.audience.empty() &&
      !audience_matches(claims.value("aud", json()), settings_.audience))
    return refuse(reason::wrong_audience);
  Verdict v;
  v.ok = true;
  if (auto sub = claims.find("sub"); sub != claims.end() && sub->is_string())
    v.subject = sub->get<std::string>();
  if (exp.present) v.expires = exp.at + settings_.leeway;
  v.claims = std::move(claims);
  return v;
}

}  // namespace duet::jwt
