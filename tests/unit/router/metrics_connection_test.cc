// The scraper's kept connection to an engine (router/metrics_connection.h) against an engine
// on real loopback that answers with scripted bytes: one connection for many scrapes, a new
// one whenever the engine closed it, and nothing (and a new connection next time) for an
// engine that is silent, says too much, answers another status or more than it was asked.

#include "router/metrics_connection.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "duet/common/address.h"
#include "router/engine_metrics.h"
#include "run_io_until.h"
#include "scripted_engine.h"

namespace duet::router {
namespace {

namespace asio = boost::asio;
using test::Script;
using test::ScriptedEngine;
using namespace std::chrono_literals;

const std::string kText = "vllm:num_requests_waiting 3\nvllm:kv_cache_usage_perc 0.25\n";

std::string answer(const std::string& body, const std::string& status = "200 OK") {
  return "HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

asio::ip::tcp::endpoint endpoint_of(const ScriptedEngine& engine) {
  auto address = Address::parse(engine.endpoint());
  return {asio::ip::make_address(address.host), address.port};
}

class MetricsConnectionTest : public ::testing::Test {
 protected:
  void serve(Script metrics) {
    engine_ = std::make_unique<ScriptedEngine>(std::map<std::string, Script>{{"/metrics", std::move(metrics)}});
    connection_ = std::make_shared<MetricsConnection>(io_.get_executor(), endpoint_of(*engine_));
  }

  // One fetch, run to its end: the body, or "(none)".
  std::string fetch(std::chrono::milliseconds timeout = 5s) {
    bool done = false;
    std::optional<std::string> got;
    io_.restart();  // a run that found no work left stopped it
    connection_->fetch(timeout, [&](std::optional<std::string> body) {
      done = true;
      got = std::move(body);
    });
    EXPECT_TRUE(test::run_io_until(io_, [&] { return done; }, 10s));
    EXPECT_FALSE(connection_->busy());
    return got.value_or("(none)");
  }

  asio::io_context io_;
  std::unique_ptr<ScriptedEngine> engine_;
  std::shared_ptr<MetricsConnection> connection_;
};

TEST_F(MetricsConnectionTest, ScrapesOverOneKeptConnection) {
  serve({{answer(kText)}});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(fetch(), kText) << "fetch " << i;
  EXPECT_EQ(connection_->opened(), 1u);
  EXPECT_EQ(engine_->scrape_connections(), 1u);
  EXPECT_EQ(engine_->scrapes(), 5u);
}

TEST_F(MetricsConnectionTest, AnEngineThatClosesEveryConnectionIsStillReadEveryTime) {
  // No `Connection: close`: the connection looks kept, and the next fetch finds it closed
  // before any byte of an answer, so it is sent again on a new one.
  serve({{answer(kText)}, true});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(fetch(), kText) << "fetch " << i;
  EXPECT_EQ(engine_->scrape_connections(), 4u);
  EXPECT_EQ(connection_->opened(), 4u);
}

TEST_F(MetricsConnectionTest, ASilentEngineTimesOutAndTheNextScrapeStartsAfresh) {
  serve({{}, false, true});
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(fetch(200ms), "(none)");
  EXPECT_GE(std::chrono::steady_clock::now() - started, 200ms);
  EXPECT_EQ(fetch(200ms), "(none)");
  EXPECT_EQ(connection_->opened(), 2u);  // not retried on the timed-out one
}

TEST_F(MetricsConnectionTest, TooMuchTextIsNotRead) {
  serve({{answer(std::string(kMaxMetricsBytes + 1, 'x'))}});
  EXPECT_EQ(fetch(), "(none)");
  EXPECT_EQ(fetch(), "(none)");
  EXPECT_EQ(connection_->opened(), 2u);  // the rest of the body was not read: closed
}

TEST_F(MetricsConnectionTest, AnotherStatusGivesNoText) {
  serve({{answer("not here", "404 Not Found")}});
  EXPECT_EQ(fetch(), "(none)");
  EXPECT_EQ(fetch(), "(none)");
  EXPECT_EQ(connection_->opened(), 1u);  // a whole answer: the connection is fine
}

TEST_F(MetricsConnectionTest, BytesAfterTheAnswerCostTheConnection) {
  serve({{answer(kText) + "HTTP/1.1 200 OK\r\n"}});
  EXPECT_EQ(fetch(), kText);
  EXPECT_EQ(fetch(), kText);
  EXPECT_EQ(connection_->opened(), 2u);
}

TEST_F(MetricsConnectionTest, AnEngineThatSaysCloseIsReadOnANewConnectionEachTime) {
  serve({{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: " + std::to_string(kText.size()) +
          "\r\n\r\n" + kText}});
  EXPECT_EQ(fetch(), kText);
  EXPECT_EQ(fetch(), kText);
  EXPECT_EQ(connection_->opened(), 2u);
  EXPECT_EQ(engine_->scrape_connections(), 2u);
}

TEST_F(MetricsConnectionTest, CloseEndsAFetchWithoutCallingIt) {
  serve({{}, false, true});
  bool called = false;
  connection_->fetch(5s, [&](std::optional<std::string>) { called = true; });
  ASSERT_TRUE(test::run_io_until(io_, [&] { return engine_->scrapes() == 1; }));
  connection_->close();
  EXPECT_FALSE(connection_->busy());
  io_.restart();
  io_.run_for(200ms);  // the cancelled read's handler runs, and finds its fetch over
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace duet::router
