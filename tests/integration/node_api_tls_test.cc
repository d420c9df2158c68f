// The TCP node API over TLS (docs/node-api.md, "TLS"): duetctl and duet-router reach it over
// https, each trusting only the CA it is given; a wrong CA, a plain client, or (when duetd
// asks for one) a missing client certificate gets nothing.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "duet/jwt.h"
#include "support/duetd_harness.h"
#include "support/router_process.h"
#include "support/test_keys.h"

namespace duet::test {
namespace {

namespace bhttp = http::bhttp;
using nlohmann::json;

std::string token(const std::string& sub, const std::string& scope) {
  return jwt::mint_hs256(kHs256Secret, {{"sub", sub},
                                        {"aud", "duetd"},
                                        {"scope", scope},
                                        {"exp", epoch_seconds(std::chrono::minutes(10))}});
}

// The files exist before duetd starts: the harness is built after them.
struct TlsFiles {
  explicit TlsFiles(const TempDir& dir) {
    std::ofstream(dir / "node.secret") << kHs256Secret << "\n";
    write_self_signed(dir / "node.pem", dir / "node.key", "duetd-node");
    write_self_signed(dir / "other.pem", dir / "other.key", "someone-else");
    write_self_signed(dir / "client.pem", dir / "client.key", "ops-laptop");
    std::ofstream(dir / "write.jwt") << token("ops", "duet.write") << "\n";
    std::ofstream(dir / "read.jwt") << token("router-a", "duet.read duet.report") << "\n";
  }
};

class NodeApiTls : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // duetd with its unix socket and an https listener; `extra` adds flags.
  std::unique_ptr<DuetdHarness> start_duetd(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--api", "https://127.0.0.1:0", "--api-secret-file",
                                     path("node.secret"), "--api-tls-cert", path("node.pem"),
                                     "--api-tls-key", path("node.key")};
    args.insert(args.end(), extra.begin(), extra.end());
    auto duetd = std::make_unique<DuetdHarness>(args);
    https_ = "https://127.0.0.1:" + std::to_string(duetd->tcp_api_port());
    return duetd;
  }

  CommandResult duetctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {bin("duetctl"), "--server", https_, "--token-file", path("write.jwt")};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }

  // A router whose one source is the https node API, trusting `ca`.
  std::unique_ptr<RouterProcess> start_router(const std::string& ca) {
    std::ofstream(dir_ / "router.yaml") << "listen: [{address: \"127.0.0.1:0\"}]\nsources:\n"
                                        << "  - {url: \"" << https_ << "\", tokenFile: "
                                        << path("read.jwt") << ", caFile: " << ca << "}\n";
    return std::make_unique<RouterProcess>(path("router.yaml"), std::vector<std::string>{});
  }

  TempDir dir_;
  TlsFiles files_{dir_};
  std::string https_;
};

TEST_F(NodeApiTls, DuetctlAndTheRouterReachItOverHttpsTrustingTheNodesCa) {
  auto duetd = start_duetd();
  EXPECT_TRUE(duetd->process().wait_for_output("tls=true")) << duetd->process().output();
  auto applied = duetctl({"--certificate-authority", path("node.pem"), "apply", "-f",
                          duetd->write("sim.yaml", sim_deployment_yaml("over-tls", 0))});
  ASSERT_EQ(applied.exit_code, 0) << applied.out;
  auto listed = duetctl({"--certificate-authority", path("node.pem"), "get", "deployments"});
  EXPECT_EQ(listed.exit_code, 0) << listed.out;
  EXPECT_NE(listed.out.find("over-tls"), std::string::npos) << listed.out;
  // $DUET_CA_FILE does what the flag does.
  auto by_env = run_command({bin("duetctl"), "--server", https_, "--token-file", path("write.jwt"),
                             "get", "deployments"},
                            {{"DUET_CA_FILE", path("node.pem")}});
  EXPECT_EQ(by_env.exit_code, 0) << by_env.out;

  auto router = start_router(path("node.pem"));
  EXPECT_TRUE(router->process().wait_for_output("event=source_synced", 10s)) << router->process().output();
  EXPECT_TRUE(duetd->process().wait_for_output("event=audit user=sub:ops action=apply"))
      << duetd->process().output();
}

TEST_F(NodeApiTls, AWrongCaAPlainClientAndThePlainSchemeGetNothing) {
  auto duetd = start_duetd();
  auto wrong = duetctl({"--certificate-authority", path("other.pem"), "get", "deployments"});
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out;
  EXPECT_NE(wrong.out.find("certificate verify failed"), std::string::npos) << wrong.out;

  // An https source whose caFile is not the node's CA never syncs, and says why.
  auto router = start_router(path("other.pem"));
  EXPECT_TRUE(router->process().wait_for_output("certificate verify failed", 10s))
      << router->process().output();
  EXPECT_EQ(router->process().output().find("event=source_synced"), std::string::npos);
  EXPECT_FALSE(router->ready());

  // Plain HTTP to the TLS port: no answer comes back, only a closed connection.
  auto plain = Address::parse(https_.substr(std::string("https://").size()));
  auto req = http::make_request(bhttp::verb::get, "/apis/v1/deployments", plain);
  req.set(bhttp::field::authorization, "Bearer " + token("ops", "duet.read"));
  EXPECT_THROW(http::fetch_sync(plain, req, 5s), std::system_error);
  EXPECT_TRUE(duetd->process().running());
}

TEST_F(NodeApiTls, WhenDuetdAsksForClientCertificatesOnlyASignedOneGetsIn) {
  auto duetd = start_duetd({"--api-tls-client-ca", path("client.pem")});
  auto without = duetctl({"--certificate-authority", path("node.pem"), "get", "deployments"});
  EXPECT_EQ(without.exit_code, 1) << without.out;
  auto unknown = duetctl({"--certificate-authority", path("node.pem"), "--client-certificate",
                          path("other.pem"), "--client-key", path("other.key"), "get", "deployments"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.out;
  auto signed_one = duetctl({"--certificate-authority", path("node.pem"), "--client-certificate",
                             path("client.pem"), "--client-key", path("client.key"), "get", "deployments"});
  EXPECT_EQ(signed_one.exit_code, 0) << signed_one.out;
  // The certificate is a second factor: the bearer token is still checked.
  auto no_token = run_command({bin("duetctl"), "--server", https_, "--certificate-authority",
                               path("node.pem"), "--client-certificate", path("client.pem"),
                               "--client-key", path("client.key"), "get", "deployments"});
  EXPECT_EQ(no_token.exit_code, 1) << no_token.out;
  EXPECT_NE(no_token.out.find("bearer token refused"), std::string::npos) << no_token.out;
}

TEST_F(NodeApiTls, AReloadTakesARotatedCertificateForNewConnections) {
  auto duetd = start_duetd();
  std::filesystem::copy_file(path("node.pem"), path("old.pem"));
  write_self_signed(dir_ / "node.pem", dir_ / "node.key", "duetd-node-rotated");
  duetd->process().signal(SIGHUP);
  ASSERT_TRUE(duetd->process().wait_for_output("event=reloaded")) << duetd->process().output();
  auto with_old = duetctl({"--certificate-authority", path("old.pem"), "get", "deployments"});
  EXPECT_EQ(with_old.exit_code, 1) << with_old.out;
  EXPECT_NE(with_old.out.find("certificate verify failed"), std::string::npos) << with_old.out;
  auto with_new = duetctl({"--certificate-authority", path("node.pem"), "get", "deployments"});
  EXPECT_EQ(with_new.exit_code, 0) << with_new.out;
}

TEST_F(NodeApiTls, DuetdRefusesAPlainListenerBeyondLoopbackAndTlsFilesThatDoNotLoad) {
  auto beyond = run_command({bin("duetd"), "--api", "tcp://0.0.0.0:0", "--api-secret-file",
                             path("node.secret"), "--state-dir", path("state")});
  EXPECT_EQ(beyond.exit_code, 2) << beyond.out;
  EXPECT_NE(beyond.out.find("a node API beyond loopback needs TLS"), std::string::npos) << beyond.out;
  auto bad_key = run_command({bin("duetd"), "--api", "https://127.0.0.1:0", "--api-secret-file",
                              path("node.secret"), "--api-tls-cert", path("node.pem"),
                              "--api-tls-key", path("other.key"), "--state-dir", path("state")});
  EXPECT_NE(bad_key.exit_code, 0) << bad_key.out;
  EXPECT_NE(bad_key.out.find("tls key " + path("other.key")), std::string::npos) << bad_key.out;
  EXPECT_EQ(bad_key.out.find("engine_cgroups"), std::string::npos) << "nothing was made first";
}

}  // namespace
}  // namespace duet::test
