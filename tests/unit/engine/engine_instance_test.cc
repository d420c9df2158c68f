// The engine instance with real processes: start, exit and CrashLoopBackOff, terminate.
#include "engine/instance/engine_instance.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <fstream>

#include "support/temp_dir.h"

namespace duet::engine {
namespace {

using namespace std::chrono_literals;

TEST(ExpandVariables, ReplacesKnownNamesOnly) {
  std::map<std::string, std::string> vars = {{"PORT", "20001"}, {"NAME", "chat-0"}};
  EXPECT_EQ(expand_variables("--port=${PORT}", vars), "--port=20001");
  EXPECT_EQ(expand_variables("${NAME}:${PORT}${OTHER}", vars), "chat-0:20001${OTHER}");
  EXPECT_EQ(expand_variables("${UNCLOSED", vars), "${UNCLOSED");
}

TEST(RestartBackoff, DoublesToFiveMinutes) {
  RestartBackoff b;
  EXPECT_EQ(b.next(), 1s);
  EXPECT_EQ(b.next(), 2s);
  EXPECT_EQ(b.next(), 4s);
  for (int i = 0; i < 10; ++i) b.next();
  EXPECT_EQ(b.next(), 300s);
  b.reset();
  EXPECT_EQ(b.next(), 1s);
}

// Runs an instance on an io_context with a SIGCHLD reaper, as duetd does.
class InstanceTest : public ::testing::Test {
 protected:
  std::shared_ptr<EngineInstance> make(std::vector<std::string> argv, uint16_t port = 0,
                                       std::optional<ProbeSpec> readiness = {}, std::optional<ProbeSpec> liveness = {}) {
    EngineConfig c;
    c.port = port;
    c.readiness = std::move(readiness);
    c.liveness = std::move(liveness);
    c.identity = {"t-0", "t", 0, "v1", api::Track::stable};
    c.launch.argv = std::move(argv);
    c.launch.env["GREETING"] = "hello";
    c.launch.log_path = (dir_ / "t-0.log").string();
    c.grace = 1s;
    instance_ = std::make_shared<EngineInstance>(io_.get_executor(), c, [this](const EngineInstance& e) {
      states_.emplace_back(api::to_string(e.state()));
    });
    reap();
    return instance_;
  }
  void reap() {
    sigchld_.async_wait([this](boost::system::error_code ec, int) {
      if (ec) return;
      int status;
      pid_t pid;
      while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0)
        if (instance_ && pid == instance_->pid()) instance_->on_exit(status);
      reap();
    });
  }
  // Runs the loop until `done` or 10 s.
  bool run_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < deadline) io_.run_for(10ms);
    return done();
  }

  std::string first_log_line() const {
    std::ifstream log(dir_ / "t-0.log");
    std::string line;
    std::getline(log, line);
    return line;
  }

  test::TempDir dir_;
  boost::asio::io_context io_;
  boost::asio::signal_set sigchld_{io_, SIGCHLD};
  std::shared_ptr<EngineInstance> instance_;
  std::vector<std::string> states_;
};

TEST_F(InstanceTest, ProcessWithoutProbeIsReadyAndSeesItsEnv) {
  auto e = make({"/bin/sh", "-c", "echo $GREETING; exec sleep 30"});
  e->start();
  EXPECT_EQ(e->state(), EngineState::ready);
  EXPECT_GT(e->pid(), 0);
  EXPECT_EQ(::getpgid(e->pid()), e->pid());  // its own process group
  EXPECT_TRUE(run_until([&] { return first_log_line() == "hello"; }));
  bool gone = false;
  e->terminate([&] { gone = true; });
  EXPECT_EQ(e->state(), EngineState::terminating);
  ASSERT_TRUE(run_until([&] { return gone; }));
  EXPECT_EQ(e->last_exit(), "killed by signal Terminated");
}

TEST_F(InstanceTest, CrashIsRestartedWithBackoff) {
  auto e = make({"/bin/sh", "-c", "exit 3"});
  e->start();
  ASSERT_TRUE(run_until([&] { return e->restarts() >= 1; }));
  auto json = api::to_json(e->status());
  EXPECT_GE(json["restarts"].get<int>(), 1);
  ASSERT_TRUE(run_until([&] { return e->state() == EngineState::pending; }));
  EXPECT_NE(api::to_json(e->status())["message"].get<std::string>().find("CrashLoopBackOff: exited with code 3; restarting in 2s"),
            std::string::npos)
      << api::to_json(e->status()).dump();
}

// Accepts the probes of an engine that is not serving yet: records each request's path and
// when it came, and closes without an answer (a failed probe).
class ProbeRecorder {
 public:
  explicit ProbeRecorder(boost::asio::io_context& io) : acceptor_(io, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  // When each probe of `path` came, in order.
  std::vector<std::chrono::steady_clock::time_point> of(const std::string& path) const {
    std::vector<std::chrono::steady_clock::time_point> at;
    for (const auto& [p, t] : probes_)
      if (p == path) at.push_back(t);
    return at;
  }

 private:
  struct Connection {
    explicit Connection(boost::asio::io_context& io) : socket(io) {}
    boost::asio::ip::tcp::socket socket;
    std::string head;
  };
  void accept() {
    auto c = std::make_shared<Connection>(static_cast<boost::asio::io_context&>(acceptor_.get_executor().context()));
    acceptor_.async_accept(c->socket, [this, c](boost::system::error_code ec) {
      if (ec) return;
      boost::asio::async_read_until(c->socket, boost::asio::dynamic_buffer(c->head), "\r\n",
                                    [this, c](boost::system::error_code ec, std::size_t) {
                                      if (!ec) {
                                        auto path = c->head.substr(c->head.find(' ') + 1);
                                        probes_.emplace_back(path.substr(0, path.find(' ')), std::chrono::steady_clock::now());
                                      }
                                      c->socket.close();
                                    });
      accept();
    });
  }
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> probes_;
};

// An engine still starting (its port not answering) is probed for readiness every 100 ms, so
// it is Ready soon after it answers; its liveness probe keeps its period from the start, so
// an engine slower to start than three quick probes is not killed (the demo's duet-sim under
// AddressSanitizer on a busy machine was, over and over).
TEST_F(InstanceTest, ALivenessProbeKeepsItsPeriodWhileTheEngineStarts) {
  ProbeRecorder probes(io_);
  auto e = make({"/bin/sh", "-c", "exec sleep 30"}, probes.port(), ProbeSpec{"/ready", 10, 1, 3, 0},
                ProbeSpec{"/live", 1, 1, 3, 0});
  e->start();
  ASSERT_TRUE(run_until([&] { return probes.of("/live").size() >= 2; }));
  auto live = probes.of("/live");
  EXPECT_GE(live[1] - live[0], 900ms);  // a period after the first failure, not 100 ms
  EXPECT_GE(probes.of("/ready").size(), 3u);  // readiness: every 100 ms, though its period is 10 s
  EXPECT_EQ(e->restarts(), 0);
  EXPECT_GT(e->pid(), 0);
  bool gone = false;
  e->terminate([&] { gone = true; });
  ASSERT_TRUE(run_until([&] { return gone; }));
}

TEST_F(InstanceTest, TerminateEscalatesToSigkill) {
  auto e = make({"/bin/sh", "-c", "trap '' TERM; echo trapped; while :; do sleep 0.05; done"});
  e->start();
  ASSERT_TRUE(run_until([&] { return first_log_line() == "trapped"; }));
  bool gone = false;
  e->terminate([&] { gone = true; });
  ASSERT_TRUE(run_until([&] { return gone; }));
  EXPECT_EQ(e->last_exit(), "killed by signal Killed");
}

}  // namespace
}  // namespace duet::engine
