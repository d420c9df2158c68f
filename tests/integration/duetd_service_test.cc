// duetd as a service: systemd notifications (READY, STATUS, WATCHDOG, RELOADING), the config
// file and its reload on SIGHUP, and the TCP node API behind bearer JWTs, also against
// clients that send no token, odd tokens or bytes that are not UTF-8.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "duet/jwt.h"
#include "support/duetd_harness.h"
#include "support/fake_notify_socket.h"
#include "support/raw_http.h"
#include "support/test_keys.h"

namespace duet::test {
namespace {

TEST(DuetdService, TellsSystemdReadyStatusAndWatchdog) {
  TempDir dir;
  FakeNotifySocket systemd(dir / "notify.sock");
  DuetdHarness d({}, {{"NOTIFY_SOCKET", (dir / "notify.sock").string()}, {"WATCHDOG_USEC", "200000"}});
  auto ready = systemd.receive_containing("READY=1");
  ASSERT_TRUE(ready);
  EXPECT_NE(ready->find("STATUS=0 deployments, 0/0 replicas ready"), std::string::npos) << *ready;
  EXPECT_TRUE(systemd.receive_containing("WATCHDOG=1", 2s));
  EXPECT_TRUE(systemd.receive_containing("WATCHDOG=1", 2s));  // again: it keeps pinging

  ASSERT_EQ(d.duetctl({"apply", "-f", d.write("sim.yaml", sim_deployment_yaml("sim", 1))}).exit_code, 0);
  EXPECT_TRUE(systemd.receive_containing("STATUS=1 deployments, 1/1 replicas ready", 20s));

  d.process().signal(SIGHUP);
  EXPECT_TRUE(systemd.receive_containing("RELOADING=1"));
  EXPECT_TRUE(systemd.receive_containing("READY=1"));
}

TEST(DuetdService, ReadsItsConfigFileAndReloadsTheLogLevel) {
  TempDir dir;
  auto config = (dir / "duetd.yaml").string();
  std::ofstream(config) << "logLevel: info\nportRange: 31000-31010\nengineLogDir: " << (dir / "engine-logs").string() << "\n";
  DuetdHarness d({"--config", config});
  ASSERT_EQ(d.duetctl({"apply", "-f", d.write("sim.yaml", sim_deployment_yaml("sim", 1))}).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return d.ready_engines("sim") == 1; }, 20s));
  EXPECT_TRUE(std::filesystem::exists(dir / "engine-logs" / "sim-0.log"));  // from the file
  auto port = d.get("/apis/v1/engines/sim-0")["port"].get<int>();
  EXPECT_TRUE(port < 31000 || port > 31010) << "the harness's --port-range flag wins over the file";
  EXPECT_NE(d.process().output().find("event=replica_placed"), std::string::npos);

  std::ofstream(config) << "logLevel: warn\n";
  d.process().signal(SIGHUP);
  ASSERT_TRUE(d.process().wait_for_output("event=reloaded logLevel=warn"));
  EXPECT_TRUE(d.process().wait_for_output("event=reload_needs_restart setting=engineLogDir"));
  ASSERT_EQ(d.duetctl({"delete", "deployment", "sim"}).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return d.get("/apis/v1/engines")["items"].empty(); }, 20s));
  EXPECT_EQ(d.process().output().find("event=engine_stopped"), std::string::npos) << "info is off now";

  // A broken file on reload keeps the old settings and says why.
  std::ofstream(config) << "logLevel: info\nportRnage: 1-2\n";
  d.process().signal(SIGHUP);
  EXPECT_TRUE(d.process().wait_for_output("event=reload_failed error=\"duetd.yaml: portRnage: unknown field\""))
      << d.process().output();
}

TEST(DuetdService, BadConfigIsAUsageError) {
  TempDir dir;
  auto config = (dir / "duetd.yaml").string();
  std::ofstream(config) << "stateDir: [a]\n";
  auto result = run_command({bin("duetd"), "--config", config});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.out.find("duetd.yaml: stateDir: expected string"), std::string::npos) << result.out;
  auto tcp = run_command({bin("duetd"), "--api", "tcp://127.0.0.1:0"});
  EXPECT_EQ(tcp.exit_code, 2);
  EXPECT_NE(tcp.out.find("a tcp:// --api needs bearer JWT keys"), std::string::npos) << tcp.out;
  std::ofstream(config) << "nodeApiAuth: {hmacSecretFile: /x, audience: \"\"}\n";
  auto no_audience = run_command({bin("duetd"), "--config", config});
  EXPECT_EQ(no_audience.exit_code, 2);
  EXPECT_NE(no_audience.out.find("duetd.yaml: nodeApiAuth.audience: must not be empty"), std::string::npos)
      << no_audience.out;
}

TEST(DuetdService, TcpApiNeedsAValidBearerToken) {
  TempDir dir;
  auto secret = (dir / "node.secret").string();
  std::ofstream(secret) << kHs256Secret << "\n";
  DuetdHarness d({"--api", "tcp://127.0.0.1:0", "--api-secret-file", secret});
  auto tcp = Address::parse("127.0.0.1:" + std::to_string(d.tcp_api_port()));
  auto get = [&](const std::string& authorization) {
    auto req = http::make_request(http::bhttp::verb::get, "/apis/v1/deployments", tcp);
    if (!authorization.empty()) req.set(http::bhttp::field::authorization, authorization);
    return http::fetch_sync(tcp, std::move(req), 5s);
  };
  auto missing = get("");
  EXPECT_EQ(missing.result_int(), 401);
  EXPECT_EQ(missing[http::bhttp::field::www_authenticate],
            "Bearer error=\"invalid_token\", error_description=\"missing\"");
  EXPECT_NE(missing.body().find("\"param\":\"Authorization\""), std::string::npos) << missing.body();
  EXPECT_EQ(http::fetch_sync(tcp, http::make_request(http::bhttp::verb::get, "/healthz", tcp), 5s).result_int(), 200);

  // Without --scope: a token for a router's users, which the node API lets do nothing.
  auto unscoped = run_command({bin("duetctl"), "token", "create", "--sub", "ops", "--secret-file", secret});
  ASSERT_EQ(unscoped.exit_code, 0) << unscoped.out;
  EXPECT_EQ(get("Bearer " + unscoped.out.substr(0, unscoped.out.find('\n'))).result_int(), 401);
  auto unknown = run_command({bin("duetctl"), "token", "create", "--sub", "ops", "--scope", "duet.all",
                              "--secret-file", secret});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.out.find("unknown scope \"duet.all\""), std::string::npos) << unknown.out;
  auto minted = run_command({bin("duetctl"), "token", "create", "--sub", "ops", "--scope", "duet.read",
                             "--ttl", "10m", "--secret-file", secret});
  ASSERT_EQ(minted.exit_code, 0) << minted.out;
  auto token = minted.out.substr(0, minted.out.find('\n'));
  EXPECT_EQ(get("Bearer " + token).result_int(), 200);

  std::ofstream(dir / "other.secret") << "another-secret-another-secret-another";
  auto forged = run_command({bin("duetctl"), "token", "create", "--sub", "ops", "--scope", "duet.read",
                             "--secret-file", (dir / "other.secret").string()});
  auto refused = get("Bearer " + forged.out.substr(0, forged.out.find('\n')));
  EXPECT_EQ(refused.result_int(), 401);
  EXPECT_NE(refused[http::bhttp::field::www_authenticate].find("bad_signature"), std::string::npos);

  // duetctl over TCP with the token.
  std::ofstream(dir / "token") << token << "\n";
  auto listed = run_command({bin("duetctl"), "--server", "http://" + tcp.to_string(),
                             "--token-file", (dir / "token").string(), "get", "deployments"});
  EXPECT_EQ(listed.exit_code, 0) << listed.out;
  auto denied = run_command({bin("duetctl"), "--server", "http://" + tcp.to_string(),
                             "get", "deployments"});
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_NE(denied.out.find("bearer token refused: missing"), std::string::npos) << denied.out;
}

// duetd with a tcp:// API that takes HS256 tokens signed with kHs256Secret.
class DuetdTcpApi : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_ / "node.secret") << kHs256Secret << "\n";
    duetd_ = std::make_unique<DuetdHarness>(std::vector<std::string>{
        "--api", "tcp://127.0.0.1:0", "--api-secret-file", (dir_ / "node.secret").string()});
    port_ = duetd_->tcp_api_port();
  }
  std::string token() const {
    return jwt::mint_hs256(kHs256Secret, {{"sub", "ops"},
                                          {"aud", "duetd"},
                                          {"scope", "duet.write"},
                                          {"exp", epoch_seconds(std::chrono::minutes(10))}});
  }
  // One request of `head` (request line and fields, without the blank line) on a new
  // connection; its response, nullopt when none came within 3 s.
  std::optional<RawHttpClient::Response> once(const std::string& head, const std::string& body = {}) {
    RawHttpClient c(port_);
    c.send(head + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    return c.read(3s);
  }

  TempDir dir_;
  std::unique_ptr<DuetdHarness> duetd_;
  uint16_t port_ = 0;
};

TEST_F(DuetdTcpApi, AnUploadWithoutATokenIsRefusedAfterItsHeader) {
  RawHttpClient c(port_);
  c.send("POST /apis/v1/apply HTTP/1.1\r\nHost: t\r\nContent-Length: 8388608\r\n\r\n");
  auto res = c.read(3s);  // the body never comes: only an answer to the header can arrive
  ASSERT_TRUE(res) << "no answer without the 8 MiB body";
  EXPECT_EQ(res->result_int(), 401);
  EXPECT_EQ((*res)[http::bhttp::field::www_authenticate],
            "Bearer error=\"invalid_token\", error_description=\"missing\"");
  EXPECT_TRUE(c.closed_within(3s));
  auto ok = once("GET /apis/v1/deployments HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + token());
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->result_int(), 200);
}

TEST_F(DuetdTcpApi, TokensWithAKidThatIsNotAStringOrWithoutExpAre401) {
  auto exp = epoch_seconds(std::chrono::minutes(10));
  std::vector<std::pair<std::string, std::string>> cases = {
      {forge({{"alg", "HS256"}, {"kid", 7}}, {{"sub", "x"}, {"exp", exp}}, "sig"), "malformed"},
      {forge({{"alg", "HS256"}, {"kid", nullptr}}, {{"sub", "x"}, {"exp", exp}}, "sig"),
       "malformed"},
      {jwt::mint_hs256(kHs256Secret, {{"sub", "x"}, {"aud", "duetd"}, {"scope", "duet.read"}}),
       "missing_exp"}};
  for (const auto& [bad, reason] : cases) {
    auto res = once("GET /apis/v1/deployments HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + bad);
    ASSERT_TRUE(res) << reason;
    EXPECT_EQ(res->result_int(), 401) << reason << ": " << res->body();
    EXPECT_NE((*res)[http::bhttp::field::www_authenticate].find(reason), std::string::npos) << reason;
  }
}

TEST_F(DuetdTcpApi, NamesThatAreNotUtf8GetAJsonErrorAndDuetdKeepsServing) {
  std::string auth = "\r\nHost: t\r\nAuthorization: Bearer " + token();
  auto missing = once("GET /apis/v1/deployments/caf\xe9\xff HTTP/1.1" + auth);
  ASSERT_TRUE(missing) << "duetd did not answer: " << duetd_->process().output();
  EXPECT_EQ(missing->result_int(), 404);
  auto message = nlohmann::json::parse(missing->body())["error"]["message"].get<std::string>();
  EXPECT_NE(message.find("caf\xef\xbf\xbd"), std::string::npos) << message;  // U+FFFD
  // A file name (duetctl's source) or a manifest that is not UTF-8: 400, nothing stored.
  auto latin1_name = once("POST /apis/v1/apply?source=caf\xe9.yaml HTTP/1.1" + auth,
                          sim_deployment_yaml("sim", 0));
  ASSERT_TRUE(latin1_name) << "duetd did not answer: " << duetd_->process().output();
  EXPECT_EQ(latin1_name->result_int(), 400) << latin1_name->body();
  EXPECT_EQ(nlohmann::json::parse(latin1_name->body())["error"]["param"], "source");
  auto latin1_arg = once("POST /apis/v1/apply HTTP/1.1" + auth,
                         sim_deployment_yaml("sim", 0, ", --name, \"caf\xe9\""));
  ASSERT_TRUE(latin1_arg) << "duetd did not answer: " << duetd_->process().output();
  EXPECT_EQ(latin1_arg->result_int(), 400) << latin1_arg->body();
  EXPECT_NE(latin1_arg->body().find("request: not valid UTF-8 at byte"), std::string::npos)
      << latin1_arg->body();
  auto after = once("GET /apis/v1/deployments HTTP/1.1" + auth);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->result_int(), 200);
  EXPECT_EQ(nlohmann::json::parse(after->body())["items"], nlohmann::json::array());
  EXPECT_TRUE(duetd_->process().running());
}

}  // namespace
}  // namespace duet::test
