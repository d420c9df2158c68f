// The chaos suite, engine side: the real duet-router between many clients and engines that
// answer with every kind of broken HTTP (chaos_engine.h), and a router killed with SIGKILL
// under load. What must hold whatever the engines do: no client ever receives an answer
// meant for another, a response that cannot be completed ends with the connection closed,
// and the router stays up and serves the well-behaved engines.

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <csignal>
#include <mutex>
#include <thread>

#include "chaos_engine.h"
#include "support/router_process.h"
#include "watch_objects.h"

namespace duet::test {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

// What the clients saw, summed over all of them.
struct Tally {
  std::atomic<int> ok{0};          // 200 with the client's own body
  std::atomic<int> crossed{0};     // 200 with somebody else's body: must stay 0
  std::atomic<int> refused{0};     // a status the router answers itself (502, 503, 504)
  std::atomic<int> cut{0};         // the connection ended before a whole response
  std::atomic<int> garbled{0};     // bytes that are no HTTP response: must stay 0
  std::atomic<int> unexpected{0};  // any other status
  std::mutex mutex;
  std::vector<std::string> examples;
};

// One client: a keep-alive connection to the router's port (re-read after every failure,
// so a restarted router is found), `requests` requests each with a body only it knows.
void run_client(int id, int requests, const std::atomic<uint16_t>& port, Tally& tally) {
  asio::io_context io;
  std::unique_ptr<tcp::socket> socket;
  boost::beast::flat_buffer buffer;
  for (int i = 0; i < requests; ++i) {
    std::string body = R"({"model":"m","prompt":"client-)" + std::to_string(id) + "-request-" +
                       std::to_string(i) + R"("})";
    if (!socket) {
      // A refused connect is a router that is not there (killed): wait for its successor's
      // port rather than spend the requests on it.
      socket = std::make_unique<tcp::socket>(io);
      uint16_t to = port.load();
      boost::system::error_code ec;
      socket->connect({asio::ip::make_address("127.0.0.1"), to}, ec);
      if (ec) {
        socket.reset();
        if (!eventually([&] { return port.load() != to; }, 30s)) return;
        --i;
        continue;
      }
      timeval limit{15, 0};  // a router that never answers fails the test, not hangs it
      setsockopt(socket->native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
      buffer.clear();
    }
    try {
      std::string request = "POST /v1/completions HTTP/1.1\r\nHost: chaos\r\n"
                            "Content-Type: application/json\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body;
      asio::write(*socket, asio::buffer(request));
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(1 << 20);
      bhttp::read(*socket, buffer, parser);
      auto response = parser.release();
      int status = response.result_int();
      if (status == 200 && response.body() == body) {
        ++tally.ok;
      } else if (status == 200) {
        ++tally.crossed;
        std::lock_guard lock(tally.mutex);
        if (tally.examples.size() < 5)
          tally.examples.push_back("sent " + body + ", got " + response.body());
      } else if (status == 502 || status == 503 || status == 504) {
        ++tally.refused;
      } else {
        ++tally.unexpected;
        std::lock_guard lock(tally.mutex);
        if (tally.examples.size() < 5)
          tally.examples.push_back("sent " + body + ", got status " +
                                           std::to_string(status) + ": " + response.body());
      }
      if (!response.keep_alive()) socket.reset();
    } catch (const boost::system::system_error& e) {
      // Reset, or a response cut short (partial_message): the router closed the connection
      // instead of completing a response it could not complete. Anything else is bytes
      // that are not a response: the router passed an engine's garbage on.
      auto ec = e.code();
      if (ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream ||
          ec == asio::error::eof || ec == asio::error::connection_reset ||
          ec == asio::error::broken_pipe) {
        ++tally.cut;
      } else {
        ++tally.garbled;
        std::lock_guard lock(tally.mutex);
        if (tally.examples.size() < 5)
          tally.examples.push_back("sent " + body + ", got " + ec.message() + " in [" +
                                   boost::beast::buffers_to_string(buffer.data()).substr(0, 200) +
                                   "]");
      }
      socket.reset();
    }
  }
}

// `count` clients running run_client at once, each `requests` requests; join() waits for
// them (the destructor too, so that a failed ASSERT does not leave a thread running).
class Clients {
 public:
  Clients(int count, int requests, const std::atomic<uint16_t>& port, Tally& tally) {
    for (int c = 0; c < count; ++c)
      threads_.emplace_back(run_client, c, requests, std::cref(port), std::ref(tally));
  }
  ~Clients() { join(); }
  void join() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  std::vector<std::thread> threads_;
};

class Chaos : public RouterTest {
 protected:
  // One deployment whose replicas are `engines`; the Route retries on 3 endpoints and
  // waits at most 2 s for a header.
  void serve(const std::vector<ChaosEngine*>& engines) {
    using namespace router::test;
    json route = backend_route("all", "chaos", "/");
    route["spec"]["timeouts"] = {{"firstByteSeconds", 2}};
    route["spec"]["retries"] = {{"attempts", 3}};
    json replicas = json::array();
    for (std::size_t i = 0; i < engines.size(); ++i) {
      json replica = engine("chaos-" + std::to_string(i), "chaos", engines[i]->endpoint());
      replica["replica"] = i;
      replicas.push_back(replica);
    }
    start_duetd(snapshot(1, json::array({route}), json::array({deployment("chaos")}), replicas));
  }

  void start() { start_router("listen: [{address: '127.0.0.1:1'}]\n"); }

  void expect_no_crossing(const Tally& tally) {
    std::string examples;
    for (const auto& e : tally.examples) examples += e + "\n";
    EXPECT_EQ(tally.crossed.load(), 0) << examples;
    EXPECT_EQ(tally.unexpected.load(), 0) << examples;
    EXPECT_EQ(tally.garbled.load(), 0) << examples;
  }
};

TEST_F(Chaos, MisbehavingEnginesNeverHandAClientAnotherClientsAnswer) {
  // Four broken engines and one good one: at most half a pool is ejected at a time, so
  // broken engines keep getting requests while the router ejects and restores them.
  std::vector<std::unique_ptr<ChaosEngine>> engines;
  for (int i = 0; i < 4; ++i) engines.push_back(std::make_unique<ChaosEngine>());
  engines.push_back(std::make_unique<ChaosEngine>(/*well_behaved=*/true));
  std::vector<ChaosEngine*> all;
  for (auto& e : engines) all.push_back(e.get());
  serve(all);
  start();

  std::atomic<uint16_t> port{router_->proxy().port};
  Tally tally;
  constexpr int kClients = 8, kRequests = 100;
  Clients(kClients, kRequests, port, tally).join();

  expect_no_crossing(tally);
  EXPECT_GT(tally.ok.load(), 0);
  EXPECT_EQ(tally.ok + tally.refused + tally.cut + tally.garbled, kClients * kRequests);
  // Every misbehaviour was met at least once by some engine.
  int broken_requests = 0;
  for (int i = 0; i < 4; ++i) broken_requests = std::max(broken_requests, engines[i]->requests());
  EXPECT_GE(broken_requests, static_cast<int>(Misbehaviour::count));
  // And the router is still there, answering from the good engine.
  ASSERT_TRUE(router_->process().running());
  Tally after;
  run_client(kClients, 20, port, after);
  expect_no_crossing(after);
  EXPECT_GT(after.ok.load(), 0);
}

TEST_F(Chaos, RouterKilledUnderLoadCrossesNoAnswerAndItsSuccessorServes) {
  ChaosEngine first(/*well_behaved=*/true), second(/*well_behaved=*/true);
  serve({&first, &second});
  start();

  std::atomic<uint16_t> port{router_->proxy().port};
  Tally tally;
  constexpr int kClients = 4, kRequests = 400;
  Clients clients(kClients, kRequests, port, tally);

  // Kill the router mid-load, once the clients are well under way.
  ASSERT_TRUE(eventually([&] { return tally.ok.load() >= 100; }, 30s));
  router_->process().signal(SIGKILL);
  router_->process().wait();
  int ok_before_restart = tally.ok.load();
  start();  // a successor on a new port; clients find it on their next reconnect
  port = router_->proxy().port;
  clients.join();

  expect_no_crossing(tally);
  EXPECT_EQ(tally.refused.load(), 0);  // the engines were healthy all along
  EXPECT_GT(tally.ok.load(), ok_before_restart);  // the successor served
  EXPECT_EQ(tally.ok + tally.cut, kClients * kRequests);
}

}  // namespace
}  // namespace duet::test
