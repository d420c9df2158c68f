// SystemdNotify against a real AF_UNIX datagram socket standing in for systemd's
// NOTIFY_SOCKET, with WATCHDOG_USEC / WATCHDOG_PID set as systemd sets them.
#include "duet/systemd_notify.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <optional>
#include <thread>

#include "support/child_process.h"
#include "support/fake_notify_socket.h"
#include "support/temp_dir.h"

namespace duet {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class SystemdNotifyTest : public ::testing::Test {
 protected:
  SystemdNotifyTest() {
    for (const char* name : {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"}) {
      const char* value = std::getenv(name);
      saved_.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
      ::unsetenv(name);
    }
  }
  ~SystemdNotifyTest() override {
    for (const auto& [name, value] : saved_) {
      if (value)
        ::setenv(name.c_str(), value->c_str(), 1);
      else
        ::unsetenv(name.c_str());
    }
  }

  test::FakeNotifySocket& listen() {
    socket_ = std::make_unique<test::FakeNotifySocket>(dir_ / "notify.sock");
    ::setenv("NOTIFY_SOCKET", (dir_ / "notify.sock").c_str(), 1);
    return *socket_;
  }

  void set_watchdog(std::chrono::microseconds interval, pid_t pid) {
    ::setenv("WATCHDOG_USEC", std::to_string(interval.count()).c_str(), 1);
    ::setenv("WATCHDOG_PID", std::to_string(pid).c_str(), 1);
  }

  test::TempDir dir_;
  std::unique_ptr<test::FakeNotifySocket> socket_;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// Runs an io_context on its own thread until it runs out of work.
class LoopThread {
 public:
  explicit LoopThread(boost::asio::io_context& io)
      : io_(io), thread_([this] {
          io_.run();
          done_ = true;
        }) {}
  ~LoopThread() {
    io_.stop();  // a test that failed must not hang here
    thread_.join();
  }
  // Whether run() returned: nothing is left on the loop.
  bool finished() const { return done_; }

 private:
  boost::asio::io_context& io_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

TEST_F(SystemdNotifyTest, WithoutNotifySocketEverythingIsANoOp) {
  set_watchdog(100ms, ::getpid());
  SystemdNotify notify;
  EXPECT_FALSE(SystemdNotify::enabled());
  EXPECT_FALSE(notify.ready("up"));
  EXPECT_FALSE(notify.status("up"));
  EXPECT_FALSE(notify.reloading());
  EXPECT_FALSE(notify.watchdog());
  boost::asio::io_context io;
  EXPECT_EQ(notify.start_watchdog(io), 0us);
  EXPECT_EQ(io.run(), 0u);  // no timer was armed
}

TEST_F(SystemdNotifyTest, ReadyCarriesTheStatusLine) {
  auto& socket = listen();
  SystemdNotify notify;
  EXPECT_TRUE(SystemdNotify::enabled());
  ASSERT_TRUE(notify.ready("listening on unix:/run/duet/duetd.sock"));
  EXPECT_EQ(socket.receive(), "READY=1\nSTATUS=listening on unix:/run/duet/duetd.sock");
  ASSERT_TRUE(notify.ready());
  EXPECT_EQ(socket.receive(), "READY=1");
}

TEST_F(SystemdNotifyTest, StatusIsOneLine) {
  auto& socket = listen();
  SystemdNotify notify;
  ASSERT_TRUE(notify.status("3 engines Ready\n1 Pending"));
  EXPECT_EQ(socket.receive(), "STATUS=3 engines Ready 1 Pending");
  ASSERT_TRUE(notify.stopping());
  EXPECT_EQ(socket.receive(), "STOPPING=1");
}

TEST_F(SystemdNotifyTest, ReloadingCarriesTheMonotonicClock) {
  auto& socket = listen();
  SystemdNotify notify;
  auto now_usec = [] {
    timespec t{};
    ::clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<unsigned long long>(t.tv_sec) * 1'000'000ull + t.tv_nsec / 1000;
  };
  auto before = now_usec();
  ASSERT_TRUE(notify.reloading());
  auto after = now_usec();
  auto message = socket.receive();
  ASSERT_TRUE(message);
  const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
  ASSERT_TRUE(message->starts_with(prefix)) << *message;
  auto stamp = std::stoull(message->substr(prefix.size()));
  EXPECT_GE(stamp, before);
  EXPECT_LE(stamp, after);
}

TEST_F(SystemdNotifyTest, WatchdogPingsAtHalfTheIntervalUntilStopped) {
  auto& socket = listen();
  set_watchdog(200ms, ::getpid());
  boost::asio::io_context io;
  SystemdNotify notify;
  auto started = Clock::now();
  ASSERT_EQ(notify.start_watchdog(io), 100ms);
  LoopThread loop(io);
  // The first ping at once, then one every 100 ms: the third comes no sooner than 200 ms.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(socket.receive(), "WATCHDOG=1") << "ping " << i;
  EXPECT_GE(Clock::now() - started, 200ms);
  notify.stop_watchdog();
  EXPECT_TRUE(test::eventually([&] { return loop.finished(); }, 5s));
}

TEST_F(SystemdNotifyTest, DestroyingTheNotifierStopsThePings) {
  listen();
  set_watchdog(10s, ::getpid());
  boost::asio::io_context io;
  auto notify = std::make_unique<SystemdNotify>();
  ASSERT_EQ(notify->start_watchdog(io), 5s);
  LoopThread loop(io);
  notify.reset();
  // The pending 5 s wait is cancelled, not waited out.
  EXPECT_TRUE(test::eventually([&] { return loop.finished(); }, 2s));
}

TEST_F(SystemdNotifyTest, WatchdogMeantForAnotherProcessIsIgnored) {
  auto& socket = listen();
  // systemd sets WATCHDOG_PID to the main pid; a child that inherited it must not ping.
  set_watchdog(100ms, ::getpid() + 1);
  boost::asio::io_context io;
  SystemdNotify notify;
  EXPECT_EQ(notify.start_watchdog(io), 0us);
  EXPECT_EQ(io.run(), 0u);
  ASSERT_TRUE(notify.status("still here"));
  EXPECT_EQ(socket.receive(), "STATUS=still here");  // and no WATCHDOG=1 before it
}

}  // namespace
}  // namespace duet
