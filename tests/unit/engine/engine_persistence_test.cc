// What lets an engine outlive duetd: its config as JSON for the checkpoint, watching a
// process that is not (or no longer) awaited through SIGCHLD, and log rotation.
#include <gtest/gtest.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "engine/instance/engine_config_json.h"
#include "engine/instance/exit_watch.h"
#include "engine/instance/log_rotation.h"
#include "engine/instance/process.h"
#include "support/temp_dir.h"

namespace duet::engine {
namespace {

using namespace std::chrono_literals;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(EngineConfigJson, RoundTripsEveryField) {
  EngineConfig c;
  c.identity = {"chat-1", "chat", 1, "r2", api::Track::canary};
  c.launch = {{"duet-sim", "--port", "20001"}, {{"PORT", "20001"}, {"CUDA_VISIBLE_DEVICES", "2,3"}}, "/l/chat-1.log", {4, 5}, {}, {}, {.memory_bytes = 1u << 30, .pids = 64}, {}};
  c.host = "127.0.0.1";
  c.port = 20001;
  c.devices = {"2", "3"};
  c.readiness = ProbeSpec{"/ready", 3, 2, 4, 5};
  c.grace = std::chrono::seconds(42);
  auto back = config_from_json(nlohmann::json::parse(config_to_json(c).dump()));
  EXPECT_EQ(config_to_json(back), config_to_json(c));
  EXPECT_EQ(back.identity.track, api::Track::canary);
  EXPECT_EQ(back.launch.cpus, (std::vector<int>{4, 5}));
  EXPECT_EQ(back.launch.limits.memory_bytes, 1u << 30);
  EXPECT_EQ(back.launch.limits.pids, 64u);
  ASSERT_TRUE(back.readiness);
  EXPECT_EQ(back.readiness->initial_delay_seconds, 5);
  EXPECT_FALSE(back.liveness);
  EXPECT_EQ(back.grace.count(), 42);
  EXPECT_THROW(config_from_json({{"identity", {{"name", "x"}}}}), nlohmann::json::exception);
  auto blue = config_to_json(c);
  blue["identity"]["track"] = "blue";
  EXPECT_THROW(config_from_json(blue), std::invalid_argument);
}

TEST(ProcessRunning, MatchesPidAndStartTime) {
  test::TempDir dir;
  LaunchSpec spec{{"sleep", "30"}, {}, (dir / "log").string(), {}, {}, {}, {}, {}};
  pid_t pid = spawn_process(spec);
  auto start = process_start_time(pid);
  ASSERT_NE(start, 0u);
  EXPECT_TRUE(process_running(pid, start));
  EXPECT_FALSE(process_running(pid, start + 1));  // same pid, another process
  ::kill(pid, SIGKILL);
  // Ended but not reaped yet: a zombie is not running.
  for (int i = 0; i < 500 && process_running(pid, start); ++i) ::usleep(10000);
  EXPECT_FALSE(process_running(pid, start));
  ::waitpid(pid, nullptr, 0);
}

TEST(SpawnProcess, TheEngineInheritsNoDescriptorOfDuetd) {
  test::TempDir dir;
  int leaked = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC, like an acceptor's socket
  ASSERT_GE(leaked, 3);
  pid_t pid = spawn_process({{"sleep", "30"}, {}, (dir / "log").string(), {}, {}, {}, {}, {}});
  std::vector<std::string> fds;
  for (int i = 0; i < 500 && fds.size() != 3; ++i) {  // until the exec has happened
    fds.clear();
    for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
      fds.push_back(e.path().filename());
    ::usleep(10000);
  }
  std::sort(fds.begin(), fds.end());
  EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2"}));
  ::close(leaked);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

TEST(ExitWatch, ReportsTheEndOfAProcess) {
  test::TempDir dir;
  boost::asio::io_context io;
  pid_t pid = spawn_process({{"sleep", "30"}, {}, (dir / "log").string(), {}, {}, {}, {}, {}});
  auto watch = std::make_shared<ExitWatch>(io.get_executor(), pid, process_start_time(pid));
  bool ended = false;
  watch->start([&] { ended = true; });
  io.run_for(50ms);
  EXPECT_FALSE(ended);
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 500 && !ended; ++i) io.run_for(10ms);
  EXPECT_TRUE(ended);
  ::waitpid(pid, nullptr, 0);
}

TEST(ExitWatch, AProcessAlreadyGoneIsReportedAtOnce) {
  test::TempDir dir;
  boost::asio::io_context io;
  pid_t pid = spawn_process({{"true"}, {}, (dir / "log").string(), {}, {}, {}, {}, {}});
  auto start = process_start_time(pid);
  ::waitpid(pid, nullptr, 0);
  auto watch = std::make_shared<ExitWatch>(io.get_executor(), pid, start);
  bool ended = false;
  watch->start([&] { ended = true; });
  for (int i = 0; i < 100 && !ended; ++i) io.run_for(10ms);
  EXPECT_TRUE(ended);
}

TEST(LogRotation, CopiesAndTruncatesPastTheLimit) {
  test::TempDir dir;
  auto path = (dir / "e.log").string();
  LogRotation rotation{100, 2};
  std::ofstream(path) << std::string(50, 'a');
  EXPECT_FALSE(rotate_if_larger(path, rotation));
  std::ofstream(path, std::ios::app) << std::string(60, 'b');
  EXPECT_TRUE(rotate_if_larger(path, rotation));
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
  EXPECT_EQ(read_file(path + ".1"), std::string(50, 'a') + std::string(60, 'b'));
  std::ofstream(path, std::ios::app) << std::string(101, 'c');
  EXPECT_TRUE(rotate_if_larger(path, rotation));
  std::ofstream(path, std::ios::app) << std::string(101, 'd');
  EXPECT_TRUE(rotate_if_larger(path, rotation));
  // Only `keep` old files: .1 is the newest, the oldest went away.
  EXPECT_EQ(read_file(path + ".1"), std::string(101, 'd'));
  EXPECT_EQ(read_file(path + ".2"), std::string(101, 'c'));
  EXPECT_FALSE(std::filesystem::exists(path + ".3"));
}

TEST(LogRotation, AWriterWithAppendModeGoesOnAtTheNewEnd) {
  test::TempDir dir;
  auto path = (dir / "e.log").string();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);  // as spawn_process opens it
  ASSERT_GE(fd, 0);
  std::string big(200, 'x');
  ASSERT_EQ(::write(fd, big.data(), big.size()), 200);
  ASSERT_TRUE(rotate_if_larger(path, {100, 1}));
  ASSERT_EQ(::write(fd, "after\n", 6), 6);
  ::close(fd);
  EXPECT_EQ(read_file(path), "after\n");  // no hole of 200 NULs before it
}

}  // namespace
}  // namespace duet::engine
