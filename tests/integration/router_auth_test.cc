// duet-router's front door with real TLS (a certificate made at test time) and real JWTs
// (RS256 and ES256 keys in a JWKS file): refusals with their reasons, key and certificate
// reloads under load, and the per-subject rate limit.

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "duet/jwt.h"
#include "fake_duetd.h"
#include "router_test_names.h"
#include "support/router_process.h"
#include "support/sim_process.h"
#include "support/temp_dir.h"
#include "support/test_keys.h"
#include "watch_objects.h"

namespace duet::router {
namespace {

using duet::test::epoch_seconds;
using duet::test::SigningKey;

const SigningKey& rsa_old() {
  static const auto key = duet::test::make_rsa_key("rsa-old");
  return key;
}
const SigningKey& rsa_new() {
  static const auto key = duet::test::make_rsa_key("rsa-new");
  return key;
}
const SigningKey& ec_key() {
  static const auto key = duet::test::make_ec_key("ec-1");
  return key;
}

json claims(const std::string& sub, json extra = json::object()) {
  json c = {
      {"sub", sub}, {"iss", "https://auth.test"}, {"aud", "duet"}, {"exp", epoch_seconds(1h)}};
  c.update(extra);
  return c;
}

std::string bearer_value(const std::string& token) {
  std::string value = "Bearer ";
  return value += token;
}

// Writes `content` to `path` through a rename, as a deploy tool does.
void replace_file(const std::filesystem::path& path, const std::string& content) {
  auto tmp = path;
  tmp += ".new";
  std::ofstream(tmp) << content;
  std::filesystem::rename(tmp, path);
}

class RouterAuth : public duet::test::RouterTest {
 protected:
  void SetUp() override {
    sim_ = std::make_unique<SimProcess>(std::vector<std::string>{"--model", "m", "--name", "e-0"});
    start_duetd(test::snapshot(1, json::array({test::backend_route("chat", "d")}),
                               json::array({test::deployment("d")}),
                               json::array({test::engine("e-0", "d", endpoint_of(*sim_))})));
    duet::test::write_self_signed(cert(), key(), "first");
    replace_file(dir_ / "jwks.json", duet::test::jwks({&rsa_old(), &ec_key()}).dump());
  }

  // `auth_extra` goes into the auth block after jwt (", failureLimit: {...}").
  void start(const std::string& extra_yaml = "", const std::string& auth_extra = "") {
    std::ostringstream yaml;
    yaml << "listen: [{address: '127.0.0.1:0', tls: {cert: " << cert() << ", key: " << key()
         << "}}]\n"
         << "auth: {jwt: {issuer: 'https://auth.test', audience: duet, jwks: "
         << (dir_ / "jwks.json").string() << "}" << auth_extra << "}\n"
         << extra_yaml;
    start_router(yaml.str(), {});
  }

  std::string cert() const { return (dir_ / "tls.crt").string(); }
  std::string key() const { return (dir_ / "tls.key").string(); }
  // One request on a connection of its own (whether a refusal closes it does not matter).
  duet::test::Response call_once(const std::string& token) {
    ProxyClient c(router_->tls(), cert());
    return call(c, token);
  }
  duet::test::Response call(ProxyClient& c, const std::string& token) {
    duet::test::Headers headers;
    if (!token.empty()) headers["authorization"] = bearer_value(token);
    return c.post("/v1/completions", completion("hi"), headers);
  }

  std::unique_ptr<SimProcess> sim_;
};

TEST_F(RouterAuth, ServesTls13WithHttp11AlpnAndValidTokens) {
  start();
  ProxyClient c(router_->tls(), cert());
  EXPECT_EQ(c.alpn(), "http/1.1");  // the client offered h2 first
  for (const auto* key : {&rsa_old(), &ec_key()}) {
    auto response = call(c, duet::test::mint(*key, claims("alice")));
    EXPECT_EQ(response.result_int(), 200) << key->kid << ": " << response.body();
    EXPECT_EQ(response["x-duet-backend"], "d/e-0");
  }
  // TLS 1.2 is below the default minimum (1.3).
  boost::asio::ssl::context old(boost::asio::ssl::context::tls_client);
  SSL_CTX_set_max_proto_version(old.native_handle(), TLS1_2_VERSION);
  boost::asio::io_context io;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> tls12(io, old);
  tls12.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), router_->tls().port});
  boost::system::error_code ec;
  tls12.handshake(boost::asio::ssl::stream_base::client, ec);
  EXPECT_TRUE(ec);
}

TEST_F(RouterAuth, EveryKindOfBadTokenIs401WithItsReasonCounted) {
  start();
  auto other_rsa = duet::test::make_rsa_key("rsa-old");  // same kid, another key
  auto rsa_pem = jwt::parse_jwks(duet::test::jwks({&rsa_old()}))[0].material;
  auto no_exp = claims("a");
  no_exp.erase("exp");
  std::vector<std::pair<std::string, std::string>> cases = {
      {duet::test::mint(ec_key(), no_exp), "missing_exp"},
      {duet::test::mint(rsa_old(), claims("a", {{"exp", epoch_seconds(-10min)}})), "expired"},
      {duet::test::mint(rsa_old(), claims("a", {{"nbf", epoch_seconds(10min)}})), "not_yet_valid"},
      {duet::test::mint(rsa_old(), claims("a", {{"iss", "https://evil.test"}})), "wrong_issuer"},
      {duet::test::mint(ec_key(), claims("a", {{"aud", "other"}})), "wrong_audience"},
      {duet::test::mint(other_rsa, claims("a")), "bad_signature"},
      {duet::test::forge({{"alg", "none"}}, claims("a")), "alg_none"},
      {duet::test::forge({{"alg", "HS256"}, {"kid", "rsa-old"}}, claims("a"), "x"), "alg_mismatch"},
      {duet::test::mint(rsa_new(), claims("a")), "unknown_kid"},
      {"not-a-jwt", "malformed"},
      {"", "missing"}};
  ProxyClient c(router_->tls(), cert());
  for (const auto& [token, reason] : cases) {
    auto response = call(c, token);
    EXPECT_EQ(response.result_int(), 401) << reason;
    EXPECT_NE(std::string(response[boost::beast::http::field::www_authenticate])
                  .find("Bearer error=\"invalid_token\""),
              std::string::npos)
        << reason;
    auto error = json::parse(response.body())["error"];
    EXPECT_EQ(error["type"], "authentication_error") << reason;
    EXPECT_NE(error["message"].get<std::string>().find(reason), std::string::npos) << error;
  }
  // HS256 signed with the RSA key's PEM: alg confusion, refused before any signature check.
  EXPECT_EQ(call(c, jwt::mint_hs256(rsa_pem, claims("a"))).result_int(), 401);
  for (const auto& [token, reason] : cases) {
    std::string series = "duet_router_auth_failures_total{reason=\"";
    series += reason;
    series += "\"}";
    EXPECT_EQ(router_->metric(series), reason == "alg_mismatch" ? 2 : 1) << series;
  }
  EXPECT_EQ(call(c, duet::test::mint(rsa_old(), claims("a"))).result_int(), 200);  // still up
}

TEST_F(RouterAuth, JwksRotationUnderLoadFailsNoRequest) {
  // The probe polls with a token that fails until the reload: not a client to hold back.
  start("", ", failureLimit: {maxFailures: 0}");
  std::vector<std::string> tokens = {duet::test::mint(rsa_old(), claims("load")),
                                     duet::test::mint(rsa_new(), claims("load"))};
  std::atomic<int> current{0}, ok{0}, failed{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i)
    clients.emplace_back([&] {
      try {
        ProxyClient c(router_->tls(), cert());
        while (!stop) ++(call(c, tokens[current]).result_int() == 200 ? ok : failed);
      } catch (const std::exception&) {
        ++failed;
      }
    });
  ProxyClient probe(router_->tls(), cert());
  ASSERT_TRUE(duet::test::eventually([&] { return ok > 100; }));
  replace_file(dir_ / "jwks.json", duet::test::jwks({&rsa_old(), &rsa_new()}).dump());
  EXPECT_TRUE(duet::test::eventually([&] { return call(probe, tokens[1]).result_int() == 200; }));
  current = 1;  // clients move to the new key while both are valid
  int at_switch = ok;
  ASSERT_TRUE(duet::test::eventually([&] { return ok > at_switch + 100; }));
  replace_file(dir_ / "jwks.json", duet::test::jwks({&rsa_new()}).dump());
  EXPECT_TRUE(duet::test::eventually([&] { return call(probe, tokens[0]).result_int() == 401; }));
  int at_removal = ok;
  ASSERT_TRUE(duet::test::eventually([&] { return ok > at_removal + 100; }));
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(failed, 0);
}

TEST_F(RouterAuth, CertificateReloadsOnFileChangeAndSighupKeepingOpenConnections) {
  start();
  auto token = duet::test::mint(ec_key(), claims("alice"));
  ProxyClient before(router_->tls(), cert());
  ASSERT_EQ(call(before, token).result_int(), 200);
  auto first_cert = dir_ / "first.crt";
  std::filesystem::copy_file(cert(), first_cert);
  duet::test::write_self_signed(cert(), key(), "second");  // new key and certificate
  // New connections get the new certificate (the client trusts only that one).
  EXPECT_TRUE(duet::test::eventually([&] {
    try {
      ProxyClient after(router_->tls(), cert());
      return call(after, token).result_int() == 200;
    } catch (const std::exception&) {
      return false;
    }
  }));
  EXPECT_THROW(ProxyClient(router_->tls(), first_cert.string()), std::exception);
  EXPECT_EQ(call(before, token).result_int(), 200);  // the open connection goes on
  router_->process().signal(SIGHUP);
  EXPECT_TRUE(router_->process().wait_for_output("event=credentials_reloaded why=SIGHUP"));
  EXPECT_EQ(call(before, token).result_int(), 200);
}

TEST_F(RouterAuth, RateLimitPerSubjectAnswers429WithRetryAfter) {
  start("rateLimit: {perSubject: {requestsPerSecond: 0.5, burst: 3}}\n");
  ProxyClient c(router_->tls(), cert());
  auto alice = duet::test::mint(ec_key(), claims("alice"));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(call(c, alice).result_int(), 200) << i;
  auto limited = call(c, alice);
  EXPECT_EQ(limited.result_int(), 429);
  EXPECT_EQ(limited[boost::beast::http::field::retry_after], "2");
  EXPECT_EQ(json::parse(limited.body())["error"]["type"], "rate_limit_error");
  EXPECT_EQ(call(c, duet::test::mint(ec_key(), claims("bob"))).result_int(), 200);
}

TEST_F(RouterAuth, KidThatIsNotAStringIs401WithAReplyNotADroppedConnection) {
  start();
  for (json kid : {json(5), json(), json::array({"ec-1"})}) {
    auto response = call_once(duet::test::forge({{"alg", "ES256"}, {"kid", kid}}, claims("a"), "sig"));
    EXPECT_EQ(response.result_int(), 401) << kid;
    EXPECT_EQ(json::parse(response.body())["error"]["type"], "authentication_error") << kid;
  }
  EXPECT_EQ(router_->metric("duet_router_auth_failures_total{reason=\"malformed\"}"), 3);
  EXPECT_EQ(call_once(duet::test::mint(ec_key(), claims("a"))).result_int(), 200);
}

TEST_F(RouterAuth, AnAddressThatKeepsFailingGets429UntilItsWindowEnds) {
  start("", ", failureLimit: {maxFailures: 5, windowSeconds: 3}");
  ProxyClient good(router_->tls(), cert());
  auto alice = duet::test::mint(ec_key(), claims("alice"));
  ASSERT_EQ(call(good, alice).result_int(), 200);  // verified now: in good's worker's cache
  auto guess = duet::test::mint(rsa_new(), claims("mallory"));  // a kid the JWKS lacks
  for (int i = 0; i < 5; ++i) EXPECT_EQ(call_once(guess).result_int(), 401) << i;
  auto limited = call_once(guess);
  EXPECT_EQ(limited.result_int(), 429);
  int retry_after = std::stoi(std::string(limited[boost::beast::http::field::retry_after]));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 3);
  EXPECT_EQ(json::parse(limited.body())["error"]["message"],
            "too many failed authentications from this address");
  // A token not yet verified waits with the rest; one already verified still passes.
  auto bob = duet::test::mint(ec_key(), claims("bob"));
  EXPECT_EQ(call_once(bob).result_int(), 429);
  EXPECT_EQ(call(good, alice).result_int(), 200);
  EXPECT_EQ(router_->metric("duet_router_auth_failures_total{reason=\"unknown_kid\"}"), 5)
      << "refusals by the limit are not token checks";
  EXPECT_TRUE(router_->process().wait_for_output("event=auth_failures_limited client=127.0.0.1"));
  EXPECT_TRUE(duet::test::eventually([&] { return call_once(bob).result_int() == 200; }, 6s));
}

}  // namespace
}  // namespace duet::router
