// The configuration the package installs in /etc/duet and the units that use it: the router
// accepts router.yaml as shipped, duetd.yaml holds exactly duetd's settings, and every path
// the daemon writes is one the unit's sandbox leaves writable and tmpfiles.d creates.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <csignal>
#include <fstream>
#include <set>

#include "duet/common/address.h"
#include "duet/common/file_text.h"
#include "packaging/package_files.h"
#include "support/duetd_harness.h"
#include "support/test_keys.h"

namespace duet::test {
namespace {

namespace fs = std::filesystem;

YAML::Node load_yaml(const std::string& rel) { return YAML::LoadFile(source_path(rel).string()); }

UnitFile unit(const std::string& name) {
  return parse_unit(read_text_file(source_path("packaging/systemd/" + name)).value());
}

// The folder of duetd.yaml's unix API socket.
std::string socket_folder(const YAML::Node& duetd) {
  for (const auto& api : duetd["api"]) {
    auto address = Address::parse(api.as<std::string>());
    if (address.kind == Address::Kind::unix_socket) return fs::path(address.path).parent_path().string();
  }
  return {};
}

TEST(RouterYaml, PassesCheckConfigAndServesOnLoopbackOnly) {
  auto path = source_path("packaging/etc/router.yaml").string();
  auto result = run_command({bin("duet-router"), "--check-config", "--config", path});
  EXPECT_EQ(result.exit_code, 0) << result.out;
  EXPECT_NE(result.out.find("configuration ok: 1 listener(s), 1 source(s)"), std::string::npos) << result.out;
  // Safe until an operator configures a certificate: nothing listens beyond loopback.
  auto router = load_yaml("packaging/etc/router.yaml");
  for (const auto& listen : router["listen"]) {
    EXPECT_EQ(Address::parse(listen["address"].as<std::string>()).host, "127.0.0.1");
    EXPECT_FALSE(listen["tls"]);
  }
  EXPECT_EQ(Address::parse(router["admin"].as<std::string>()).host, "127.0.0.1");
}

TEST(DuetdYaml, HoldsExactlyTheDaemonsSettings) {
  auto duetd = load_yaml("packaging/etc/duetd.yaml");
  std::set<std::string> keys;
  for (const auto& entry : duetd) keys.insert(entry.first.as<std::string>());
  EXPECT_EQ(keys, (std::set<std::string>{"api", "stateDir", "engineLogDir", "engineUser", "portRange",
                                         "logLevel", "devRoot", "sysRoot", "procRoot"}));
  // Engines as the package's own engine user, which sysusers.d makes (not duetd's).
  EXPECT_EQ(duetd["engineUser"].as<std::string>(), "duet-engine");
  auto sysusers = read_text_file(source_path("packaging/sysusers.d/duet.conf")).value();
  EXPECT_NE(sysusers.find("\nu     duet-engine "), std::string::npos);
  ASSERT_TRUE(duetd["api"].IsSequence());
  for (const auto& api : duetd["api"]) EXPECT_NO_THROW(Address::parse(api.as<std::string>()));
  EXPECT_EQ(socket_folder(duetd), "/run/duet");
  EXPECT_EQ(duetd["stateDir"].as<std::string>(), "/var/lib/duet");  // SPEC §4's default
  EXPECT_TRUE(std::set<std::string>({"debug", "info", "warn", "error"}).contains(duetd["logLevel"].as<std::string>()));
  auto range = duetd["portRange"].as<std::string>();
  auto dash = range.find('-');
  ASSERT_NE(dash, std::string::npos) << range;
  EXPECT_LT(std::stoi(range.substr(0, dash)), std::stoi(range.substr(dash + 1))) << range;
}

// The packaged duetd.yaml with its paths moved into `dir`; `uncommented` also enables the TCP
// listener and the nodeApiAuth block that the file ships commented out, as an operator would.
std::string duetd_yaml_in(const TempDir& dir, bool uncommented) {
  auto text = read_text_file(source_path("packaging/etc/duetd.yaml")).value();
  auto replace_all = [&](const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  };
  replace_all("/run/duet", (dir / "run").string());
  replace_all("/var/lib/duet", (dir / "state").string());
  replace_all("/var/log/duet", (dir / "log").string());
  // The package's user does not exist here; any user but root will do to start.
  replace_all("engineUser: duet-engine", "engineUser: nobody");
  if (uncommented) {
    replace_all("  # - tcp://127.0.0.1:7070", "  - tcp://127.0.0.1:0");
    replace_all("  # - https://10.0.0.12:7443", "  - https://127.0.0.1:0");
    // Each block: its lines lose their "# " up to the blank line that ends it.
    for (const char* key : {"# nodeApiAuth:", "# nodeApiTls:"}) {
      auto block = text.find(key);
      EXPECT_NE(block, std::string::npos) << key;
      auto end = text.find("\n\n", block);
      for (auto at = block; at != std::string::npos && at < end; at = text.find("\n# ", at)) {
        text.erase(at == block ? at : at + 1, 2);
        end -= 2;
      }
    }
    replace_all("/etc/duet/node-api.secret", (dir / "node-api.secret").string());
    std::ofstream(dir / "node-api.secret") << "a-test-secret-of-at-least-32-bytes-length\n";
    replace_all("/etc/duet/node-api.crt", (dir / "node-api.crt").string());
    replace_all("/etc/duet/node-api.key", (dir / "node-api.key").string());
    write_self_signed(dir / "node-api.crt", dir / "node-api.key");
  }
  auto path = dir / "duetd.yaml";
  std::ofstream(path) << text;
  return path.string();
}

// SIGTERM, as systemctl stop: duetd ends and takes its (empty) replicas' cgroup root with it.
void stop_cleanly(ChildProcess& duetd) {
  auto root = engine_cgroups_field(duetd.output(), "root");
  duetd.signal(SIGTERM);
  EXPECT_NE(duetd.wait(), -1) << duetd.output();
  if (root.starts_with("/")) {
    EXPECT_FALSE(fs::exists(root)) << root;
  }
}

TEST(DuetdYaml, DuetdStartsWithIt) {
  TempDir dir;
  ChildProcess duetd({bin("duetd"), "--config", duetd_yaml_in(dir, false)}, {}, (dir / "duetd.log").string());
  ASSERT_TRUE(duetd.wait_for_output("event=listening", 20s)) << duetd.output();
  auto api = Address::parse("unix:" + (dir / "run/duetd.sock").string());
  auto health = http::fetch_sync(api, http::make_request(http::bhttp::verb::get, "/healthz", api), 10s);
  EXPECT_EQ(health.result_int(), 200);
  EXPECT_TRUE(fs::is_directory(dir / "state"));
  stop_cleanly(duetd);
}

TEST(DuetdYaml, ItsCommentedTcpApiAuthAndTlsWorkWhenEnabled) {
  TempDir dir;
  ChildProcess duetd({bin("duetd"), "--config", duetd_yaml_in(dir, true)}, {}, (dir / "duetd.log").string());
  ASSERT_TRUE(duetd.wait_for_output("auth=jwt tls=true", 20s)) << duetd.output();
  EXPECT_NE(duetd.output().find("api=https://127.0.0.1:0"), std::string::npos) << duetd.output();
  stop_cleanly(duetd);
}

TEST(Units, DuetdUnitKeepsEnginesAndDevicesWorking) {
  auto u = unit("duetd.service");
  EXPECT_EQ(u.values("Service", "Type"), std::vector<std::string>{"notify"});
  EXPECT_EQ(u.values("Service", "ExecStart"), std::vector<std::string>{"/usr/bin/duetd --config /etc/duet/duetd.yaml"});
  EXPECT_EQ(u.values("Service", "ExecReload"), std::vector<std::string>{"/bin/kill -HUP $MAINPID"});
  EXPECT_EQ(u.values("Service", "KillMode"), std::vector<std::string>{"process"});  // engines outlive duetd
  EXPECT_EQ(u.values("Service", "Restart"), std::vector<std::string>{"on-failure"});
  EXPECT_EQ(u.values("Service", "OOMPolicy"), std::vector<std::string>{"continue"});
  EXPECT_TRUE(u.has("Service", "WatchdogSec"));
  EXPECT_EQ(u.values("Service", "User"), std::vector<std::string>{"duet"});
  EXPECT_EQ(u.values("Service", "ProtectSystem"), std::vector<std::string>{"strict"});
  EXPECT_EQ(u.values("Service", "NoNewPrivileges"), std::vector<std::string>{"yes"});
  EXPECT_EQ(u.values("Service", "PrivateTmp"), std::vector<std::string>{"yes"});
  EXPECT_EQ(u.values("Service", "SystemCallArchitectures"), std::vector<std::string>{"native"});
  EXPECT_TRUE(u.has("Service", "ProtectHome"));
  EXPECT_TRUE(u.has("Service", "RestrictAddressFamilies"));
  // Each of these hides accelerator nodes or turns on the device cgroup filter.
  for (const char* key : {"PrivateDevices", "DevicePolicy", "DeviceAllow", "ProtectClock"})
    EXPECT_FALSE(u.has("Service", key)) << key << " would take the devices away from engines";
  // Engines JIT-compile kernels; the router may not.
  EXPECT_FALSE(u.has("Service", "MemoryDenyWriteExecute"));
  EXPECT_EQ(u.values("Install", "WantedBy"), std::vector<std::string>{"multi-user.target"});
}

TEST(Units, RouterUnitIsNotifyAndSandboxed) {
  auto u = unit("duet-router.service");
  EXPECT_EQ(u.values("Service", "Type"), std::vector<std::string>{"notify"});
  EXPECT_EQ(u.values("Service", "ExecStart"),
            std::vector<std::string>{"/usr/bin/duet-router --config /etc/duet/router.yaml"});
  // A reload hands the sockets to a new process, which the old one names the main one.
  EXPECT_EQ(u.values("Service", "ExecReload"), std::vector<std::string>{"/bin/kill -USR2 $MAINPID"});
  EXPECT_FALSE(u.has("Service", "NotifyAccess"));  // main only: no child may alter the state
  EXPECT_EQ(u.values("Service", "Restart"), std::vector<std::string>{"on-failure"});
  EXPECT_TRUE(u.has("Service", "WatchdogSec"));
  // Its own user: neither duetd nor an engine can read its keys.
  EXPECT_EQ(u.values("Service", "User"), std::vector<std::string>{"duet-router"});
  EXPECT_EQ(u.values("Service", "SupplementaryGroups"), std::vector<std::string>{"duet-api"});
  for (const char* key : {"NoNewPrivileges", "PrivateTmp", "PrivateDevices", "MemoryDenyWriteExecute",
                          "RemoveIPC"})
    EXPECT_EQ(u.values("Service", key), std::vector<std::string>{"yes"}) << key;
  EXPECT_EQ(u.values("Service", "ProtectSystem"), std::vector<std::string>{"strict"});
}

TEST(Units, EveryPathDuetdWritesIsWritableAndCreated) {
  auto duetd = load_yaml("packaging/etc/duetd.yaml");
  auto u = unit("duetd.service");
  std::set<std::string> writable;
  for (const auto& value : u.values("Service", "ReadWritePaths"))
    for (const auto& path : words(value)) writable.insert(path);
  auto tmpfiles = read_text_file(source_path("packaging/tmpfiles.d/duet.conf")).value();
  for (const auto& path : {duetd["stateDir"].as<std::string>(), duetd["engineLogDir"].as<std::string>(),
                           socket_folder(duetd)}) {
    EXPECT_TRUE(writable.contains(path)) << path << " is read-only under ProtectSystem=strict";
    EXPECT_NE(tmpfiles.find("d     " + path + " "), std::string::npos) << path << " missing in tmpfiles.d";
  }
  // The router watches this node's duetd through the socket duetd.yaml names.
  auto router = load_yaml("packaging/etc/router.yaml");
  ASSERT_TRUE(router["sources"].IsSequence());
  EXPECT_EQ(router["sources"][0].as<std::string>(), "unix:" + socket_folder(duetd) + "/duetd.sock");
}

}  // namespace
}  // namespace duet::test
