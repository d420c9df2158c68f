// Clients that misbehave: oversized headers and bodies, slow-loris headers, bodies that are
// not JSON or not UTF-8. Each gets a clear error, the router keeps serving, and its memory
// stays flat over many such requests.

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "fake_duetd.h"
#include "router_test_names.h"
#include "support/router_process.h"
#include "support/sim_process.h"
#include "support/temp_dir.h"
#include "watch_objects.h"

namespace duet::router {
namespace {

using duet::test::rss_kib;
using tcp = boost::asio::ip::tcp;

class RouterAbuse : public duet::test::RouterTest {
 protected:
  void SetUp() override {
    sim_ = std::make_unique<SimProcess>(std::vector<std::string>{"--model", "m", "--name", "e-0"});
    start_duetd(test::snapshot(1, json::array({test::size_route("chat", 100, "d", "d")}),
                               json::array({test::deployment("d")}),
                               json::array({test::engine("e-0", "d", endpoint_of(*sim_))})));
    // No ASan quarantine: freed memory is reused at once, so RSS shows real growth.
    start_router("limits: {maxBodyBytes: 65536, maxHeaderBytes: 8192, headerTimeoutSeconds: 1}\n",
                 {"--listen", "127.0.0.1:0"}, {{"ASAN_OPTIONS", "quarantine_size_mb=0"}});
  }

  // Each kind of bad request once; returns the statuses in order.
  std::vector<int> abuse_round() {
    std::vector<int> statuses;
    auto status_of = [&](std::string body, duet::test::Headers headers = {}) {
      try {
        ProxyClient c(router_->proxy());
        statuses.push_back(c.post("/v1/completions", std::move(body), headers).result_int());
      } catch (const std::exception&) {
        statuses.push_back(-1);
      }
    };
    status_of("{\"model\": \"m\", \"prompt\": ");                        // not JSON
    status_of("{\"model\": \"m\", \"prompt\": \"\xff\xfe\xfd\"}");       // not UTF-8
    status_of(completion(std::string(100'000, 'x')));                    // body over the limit
    status_of(completion("hi"), {{"x-pad", std::string(10'000, 'p')}});  // header over it
    return statuses;
  }

  std::unique_ptr<SimProcess> sim_;
};

TEST_F(RouterAbuse, BadRequestsGetClearErrorsAndTheRouterStaysUp) {
  EXPECT_EQ(abuse_round(), (std::vector<int>{400, 400, 413, 431}));
  ProxyClient c(router_->proxy());
  auto not_json = c.post("/v1/completions", "{nope");
  EXPECT_EQ(json::parse(not_json.body())["error"]["message"], "request body is not valid JSON");
  auto not_utf8 = c.post("/v1/completions", "{\"prompt\": \"caf\xe9\"}");
  EXPECT_EQ(json::parse(not_utf8.body())["error"]["message"], "request body is not valid UTF-8");
  EXPECT_EQ(c.post("/v1/completions", completion("hi")).result_int(), 200);  // same connection
}

TEST_F(RouterAbuse, SlowLorisHeaderIsCutOffAtTheHeaderTimeout) {
  boost::asio::io_context io;
  tcp::socket slow(io);
  slow.connect({boost::asio::ip::make_address("127.0.0.1"), router_->proxy().port});
  boost::asio::write(
      slow, boost::asio::buffer(std::string("POST /v1/completions HTTP/1.1\r\nHost: x\r\n")));
  auto started = std::chrono::steady_clock::now();
  ProxyClient fast(router_->proxy());
  EXPECT_EQ(fast.post("/v1/completions", completion("hi")).result_int(), 200);
  char byte;
  boost::system::error_code ec;
  boost::asio::read(slow, boost::asio::buffer(&byte, 1), ec);  // blocks until the router closes
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(ec, boost::asio::error::eof);
  EXPECT_GE(waited, 900ms);
  EXPECT_LT(waited, 5s);
}

TEST_F(RouterAbuse, MemoryStaysFlatOverManyBadRequests) {
  for (int i = 0; i < 20; ++i) abuse_round();  // warm up: pools and caches reach their size
  long before = rss_kib(router_->process().pid());
  for (int i = 0; i < 200; ++i) ASSERT_EQ(abuse_round(), (std::vector<int>{400, 400, 413, 431}));
  long after = rss_kib(router_->process().pid());
  ASSERT_GT(before, 0);
  EXPECT_LT(after - before, 8 * 1024) << before << " KiB → " << after << " KiB";
}

}  // namespace
}  // namespace duet::router
