// resources.limits as the kernel gets them (engine/instance/resource_limits.h): quantities,
// the knob files of cgroup v2 and v1 (plain files standing in for cgroupfs), OOM counts.
#include "engine/instance/resource_limits.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/temp_dir.h"

namespace duet::engine {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

TEST(ByteQuantity, ReadsKubernetesUnits) {
  EXPECT_EQ(parse_byte_quantity("1073741824"), 1073741824u);
  EXPECT_EQ(parse_byte_quantity("512Mi"), 512u << 20);
  EXPECT_EQ(parse_byte_quantity("64Gi"), 64ull << 30);
  EXPECT_EQ(parse_byte_quantity("2Ti"), 2ull << 40);
  EXPECT_EQ(parse_byte_quantity("1G"), 1000000000u);
  EXPECT_EQ(parse_byte_quantity("500M"), 500000000u);
  EXPECT_EQ(parse_byte_quantity("128Ki"), 128u << 10);
  EXPECT_EQ(parse_byte_quantity("1k"), 1000u);
  for (const char* bad : {"", "Mi", "12 Mi", "1.5Gi", "-1", "12mi", "12MiB", "99999999999Ti"})
    EXPECT_THROW(parse_byte_quantity(bad), std::invalid_argument) << bad;
}

class LimitKnobs : public ::testing::Test {
 protected:
  // A folder with the knob files the kernel would give it.
  fs::path knobs(const std::string& name, std::initializer_list<const char*> files) {
    fs::create_directories(dir_ / name);
    for (const char* f : files) std::ofstream(dir_ / name / f) << "max\n";
    return dir_ / name;
  }
  test::TempDir dir_;
};

TEST_F(LimitKnobs, CgroupV2GetsMemoryMaxWithoutSwapAndPidsMax) {
  auto v2 = knobs("chat-0", {"memory.max", "memory.swap.max", "pids.max"});
  apply_limits({v2.string(), {}}, {.memory_bytes = 64u << 20, .pids = 100});
  EXPECT_EQ(read(v2 / "memory.max"), "67108864");
  EXPECT_EQ(read(v2 / "memory.swap.max"), "0");
  EXPECT_EQ(read(v2 / "pids.max"), "100");
  std::ofstream(v2 / "memory.events") << "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\n";
  EXPECT_EQ(oom_kills({v2.string(), {}}), 2u);
}

TEST_F(LimitKnobs, CgroupV1GetsLimitInBytesAndMemswFromItsOwnFolder) {
  auto v2 = knobs("v2/chat-0", {});
  auto memory = knobs("v1/chat-0", {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"});
  LimitFolders folders{v2.string(), {{"memory", memory.string()}}};
  apply_limits(folders, {.memory_bytes = 32u << 20, .pids = std::nullopt});
  EXPECT_EQ(read(memory / "memory.limit_in_bytes"), "33554432");
  EXPECT_EQ(read(memory / "memory.memsw.limit_in_bytes"), "33554432");
  EXPECT_FALSE(fs::exists(v2 / "memory.max")) << "nothing written where the controller is not";
  std::ofstream(memory / "memory.oom_control") << "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
  EXPECT_EQ(oom_kills(folders), 3u);
}

TEST_F(LimitKnobs, ALimitWithNowhereToGoIsAnErrorNamingIt) {
  auto v2 = knobs("chat-0", {"memory.max"});  // no pids controller here
  try {
    apply_limits({v2.string(), {}}, {.memory_bytes = std::nullopt, .pids = 10});
    FAIL() << "pids.max does not exist";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("resources.limits.pids: cannot write " + (v2 / "pids.max").string()),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(v2 / "pids.max")) << "a knob is never created";
  EXPECT_THROW(apply_limits({"", {}}, {.memory_bytes = 1u << 30, .pids = std::nullopt}), std::runtime_error);
  EXPECT_EQ(oom_kills({"", {}}), 0u);
}

}  // namespace
}  // namespace duet::engine
