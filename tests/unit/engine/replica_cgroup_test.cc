// Where duetd puts its replicas' cgroups (engine/instance/replica_cgroup.h), read from a fake
// /proc: the cgroup2 mount and duetd's own cgroup, over a plain folder standing in for the
// cgroup file system.
#include "engine/instance/replica_cgroup.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/temp_dir.h"

namespace duet::engine {
namespace {

namespace fs = std::filesystem;

class CgroupRootTest : public ::testing::Test {
 protected:
  // /proc/self/mountinfo with a cgroup2 mount at `mount_`, and /proc/self/cgroup saying `own`.
  void fake_proc(const std::string& own, bool with_cgroup2 = true) {
    fs::create_directories(dir_ / "proc/self");
    std::ofstream(dir_ / "proc/self/mountinfo")
        << "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        << (with_cgroup2 ? "35 24 0:30 / " + mount_.string() +
                               " rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw\n"
                         : std::string());
    std::ofstream(dir_ / "proc/self/cgroup") << "0::" << own << "\n";
  }
  std::optional<CgroupRoot> open(const std::string& configured, std::string& why) {
    return CgroupRoot::open(configured, "/var/lib/duet", (dir_ / "proc").string(), why);
  }

  test::TempDir dir_;
  fs::path mount_ = dir_ / "cgroup";
};

TEST_F(CgroupRootTest, ADelegatedCgroupGetsEnginesBesideDuetd) {
  // The kernel gives a new cgroup folder its files; here the test does.
  fs::create_directories(mount_ / "system.slice/duetd.service/engines");
  std::ofstream(mount_ / "system.slice/duetd.service/engines/cgroup.procs");
  fake_proc("/system.slice/duetd.service");
  std::string why;
  auto root = open("auto", why);
  ASSERT_TRUE(root) << why;
  EXPECT_EQ(root->path, (mount_ / "system.slice/duetd.service/engines").string());
  EXPECT_EQ(root->replica("chat-0"), root->path + "/chat-0");
}

TEST_F(CgroupRootTest, TheRootCgroupGetsAFolderPerStateDir) {
  fs::create_directories(mount_);
  fake_proc("/");
  // The folders made here are plain ones, not cgroups: refused, naming the folder tried.
  auto tried = [&](const std::string& state_dir) {
    std::string why;
    EXPECT_FALSE(CgroupRoot::open("auto", state_dir, (dir_ / "proc").string(), why));
    return why.substr(0, why.find(':'));
  };
  auto a = tried("/var/lib/duet");
  EXPECT_TRUE(a.starts_with((mount_ / "duet-").string())) << a;
  EXPECT_EQ(tried("/var/lib/duet"), a) << "one state dir, one folder across restarts";
  EXPECT_NE(tried("/srv/other-duetd"), a) << "two duetds would share their replicas' cgroups";
}

TEST_F(CgroupRootTest, NoCgroup2OrNoneMeansProcessGroups) {
  fake_proc("/", false);
  std::string why;
  EXPECT_FALSE(open("auto", why));
  EXPECT_NE(why.find("no cgroup2"), std::string::npos) << why;
  EXPECT_FALSE(open("none", why));
  EXPECT_EQ(why, "cgroupRoot is none");
}

TEST_F(CgroupRootTest, AConfiguredFolderIsUsedAsGivenAndListsItsReplicas) {
  auto configured = (dir_ / "mine").string();
  std::string why;
  auto root = open(configured, why);
  // A plain folder has no cgroup.procs: not a cgroup, so not taken.
  EXPECT_FALSE(root);
  EXPECT_NE(why.find(configured), std::string::npos) << why;
  std::ofstream(dir_ / "mine/cgroup.procs");
  root = open(configured, why);
  ASSERT_TRUE(root) << why;
  EXPECT_EQ(root->path, configured);
  fs::create_directories(dir_ / "mine/chat-0");
  fs::create_directories(dir_ / "mine/chat-canary-0");
  auto replicas = root->replicas();
  std::sort(replicas.begin(), replicas.end());
  EXPECT_EQ(replicas, (std::vector<std::string>{"chat-0", "chat-canary-0"}));
}

// A hybrid host (cgroup v2 without memory and pids, their v1 hierarchies mounted): limits
// go in a folder named as the root under duetd's own v1 cgroup of each controller.
TEST_F(CgroupRootTest, LimitControllersTheV2RootLacksComeFromTheirV1Hierarchies) {
  fs::create_directories(mount_ / "duet-x");
  std::ofstream(mount_ / "duet-x/cgroup.procs");
  std::ofstream(mount_ / "duet-x/cgroup.subtree_control") << "";  // the kernel would refuse +memory
  auto v1_memory = dir_ / "v1/memory";
  fs::create_directories(v1_memory / "jobs/42/duet-x");
  std::ofstream(v1_memory / "jobs/42/duet-x/cgroup.procs");
  fs::create_directories(dir_ / "proc/self");
  std::ofstream(dir_ / "proc/self/mountinfo")
      << "35 24 0:30 / " << mount_.string() << " rw shared:9 - cgroup2 cgroup2 rw\n"
      << "36 24 0:31 / " << v1_memory.string() << " rw shared:10 - cgroup cgroup rw,memory\n"
      << "37 24 0:32 / " << (dir_ / "v1/cpu,cpuacct").string() << " rw - cgroup cgroup rw,cpu,cpuacct\n";
  std::ofstream(dir_ / "proc/self/cgroup") << "5:cpu,cpuacct:/\n4:memory:/jobs/42\n0::/\n";
  std::string why;
  auto root = open((mount_ / "duet-x").string(), why);
  ASSERT_TRUE(root) << why;
  EXPECT_EQ(root->controller_place("memory"), (v1_memory / "jobs/42/duet-x").string());
  EXPECT_EQ(root->replica_v1("memory", "chat-0"), (v1_memory / "jobs/42/duet-x/chat-0").string());
  // No pids hierarchy mounted and none in v2: pids limits cannot be placed.
  EXPECT_EQ(root->controller_place("pids"), "none");
  EXPECT_EQ(root->replica_v1("pids", "chat-0"), "");
  // Where v2 has the controller, limits go in the replica's own cgroup.
  std::ofstream(mount_ / "duet-x/cgroup.subtree_control") << "memory pids";
  root = open((mount_ / "duet-x").string(), why);
  ASSERT_TRUE(root) << why;
  EXPECT_EQ(root->controller_place("pids"), "v2");
  EXPECT_EQ(root->replica_v1("pids", "chat-0"), "");
  EXPECT_EQ(root->controller_place("memory"), "v2");
}

}  // namespace
}  // namespace duet::engine
