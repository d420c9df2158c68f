// Engines run as duetd's `engineUser` (issue 16): an engine's command that tries to read
// duetd's secrets and state or to use the node socket fails on each. Needs root (duetd must
// be able to start engines as another user); skipped otherwise.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/duetd_harness.h"
#include "support/test_keys.h"

namespace duet::test {
namespace {

namespace fs = std::filesystem;

// The engine's report: each attempt's exit status on a line `NAME=STATUS`.
std::string probe_command(const TempDir& dir, const std::string& duetctl) {
  auto in = [&](const char* name) { return (dir / name).string(); };
  return "id -u; cat " + in("node.secret") + "; echo secret=$?; cat " + in("tls.key") +
         "; echo key=$?; cat " + in("state/checkpoint.json") + " >/dev/null; echo checkpoint=$?; " +
         duetctl + " --server unix:" + in("duetd.sock") + " get deployments; echo socket=$?; " +
         "echo done; exec sleep 600";
}

TEST(EngineIdentity, AnEngineCannotReadSecretsStateOrUseTheNodeSocket) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to start engines as another user";
  DuetdHarness d({"--engine-user", "nobody"});
  // Open folders, so that what stops the engine is each file's own mode, as under /etc/duet
  // and /run/duet, not a private test folder on the way.
  fs::permissions(d.dir().path(), fs::perms::owner_all | fs::perms::group_read |
                                      fs::perms::group_exec | fs::perms::others_read |
                                      fs::perms::others_exec);
  std::ofstream(d.dir() / "node.secret") << kHs256Secret << "\n";
  ::chmod((d.dir() / "node.secret").c_str(), 0600);
  std::ofstream(d.dir() / "tls.key") << "-----BEGIN PRIVATE KEY-----\n";
  ::chmod((d.dir() / "tls.key").c_str(), 0640);
  // A duetctl the engine's user can run wherever the build tree is.
  fs::copy_file(fs::path(DUET_BIN_DIR) / "duetctl", d.dir() / "duetctl");
  ASSERT_TRUE(d.process().output().find("event=engine_identity user=nobody") != std::string::npos)
      << d.process().output();

  std::string manifest =
      "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: cpu}\nhandler: cpu\n---\n"
      "apiVersion: duet/v1alpha1\nkind: EngineDeployment\nmetadata: {name: peek}\nspec:\n"
      "  runtimeClassName: cpu\n  replicas: 1\n  version: v1\n"
      "  template:\n    command: [sh, -c, \"" + probe_command(d.dir(), (d.dir() / "duetctl").string()) + "\"]\n";
  auto applied = d.duetctl({"apply", "-f", d.write("peek.yaml", manifest)});
  ASSERT_EQ(applied.exit_code, 0) << applied.out;
  std::string log;
  ASSERT_TRUE(eventually([&] {
    log = d.request(http::bhttp::verb::get, "/apis/v1/engines/peek-0/logs").body();
    return log.find("done") != std::string::npos;
  }, 20s)) << log;
  EXPECT_EQ(log.substr(0, log.find('\n')), std::to_string(65534)) << log;  // nobody's uid
  for (const char* attempt : {"secret=1", "key=1", "checkpoint=1", "socket=1"})
    EXPECT_NE(log.find(attempt), std::string::npos) << attempt << " in:\n" << log;
  EXPECT_EQ(log.find(kHs256Secret), std::string::npos) << log;
  EXPECT_NE(log.find("Permission denied"), std::string::npos) << log;
}

}  // namespace
}  // namespace duet::test
