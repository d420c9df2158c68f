// The shared HTTP server and client against each other, on loopback and a unix socket; and
// the server against raw clients: pipelining, refusals before the body, the connection cap,
// error text that is not UTF-8. Accept when out of file descriptors: accept_emfile_test.cc.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "duet/common/http_client.h"
#include "duet/common/http_error.h"
#include "duet/common/http_server.h"
#include "support/child_process.h"
#include "support/raw_http.h"
#include "server_fixture.h"
#include "support/temp_dir.h"

namespace duet::http {
namespace {

using namespace std::chrono_literals;

TEST_F(ServerFixture, WholeReplyOverTcp) {
  start(Address::parse("127.0.0.1:0"));
  auto res = fetch_sync(tcp(), make_request(bhttp::verb::post, "/whole", tcp(), "hi"), std::chrono::seconds(5));
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "body:hi");
}

TEST_F(ServerFixture, AnIpv6ClientIsNamedWithItsAddress) {
  start(Address::parse("[::1]:0"));
  auto to = Address::parse("[::1]:" + std::to_string(port()));
  auto res = fetch_sync(to, make_request(bhttp::verb::get, "/remote", to), 5s);
  EXPECT_TRUE(res.body().starts_with("[::1]:")) << res.body();
  EXPECT_GT(std::stoi(res.body().substr(6)), 0) << res.body();
}

TEST_F(ServerFixture, ErrorsBecomeJsonNamingTheField) {
  start(Address::parse("127.0.0.1:0"));
  auto res = fetch_sync(tcp(), make_request(bhttp::verb::get, "/error", tcp()), std::chrono::seconds(5));
  EXPECT_EQ(res.result_int(), 422);
  auto body = nlohmann::json::parse(res.body());
  EXPECT_EQ(body["error"]["message"], "field is wrong");
  EXPECT_EQ(body["error"]["param"], "spec.x");
}

TEST_F(ServerFixture, BodyOverTheLimitIs413) {
  start(Address::parse("127.0.0.1:0"));
  auto res = fetch_sync(tcp(), make_request(bhttp::verb::post, "/whole", tcp(), std::string(2000, 'x')),
                        std::chrono::seconds(5));
  EXPECT_EQ(res.result_int(), 413);
}

TEST_F(ServerFixture, StreamOverUnixSocketArrivesWhole) {
  test::TempDir dir;
  auto address = Address::parse("unix:" + (dir / "api.sock").string());
  start(address);
  boost::asio::io_context client_io;
  std::string received;
  error_code end = boost::asio::error::would_block;
  StreamHandlers handlers;
  handlers.on_data = [&](std::string_view d) { received.append(d); };
  handlers.on_end = [&](error_code ec) { end = ec; };
  ClientCall::stream(client_io.get_executor(), address,
                     make_request(bhttp::verb::get, "/stream", address), std::chrono::seconds(5),
                     handlers);
  client_io.run();
  EXPECT_FALSE(end) << end.message();
  EXPECT_EQ(received, "one\ntwo\nthree\n");
}

}  // namespace
}  // namespace duet::http

namespace duet::http {
namespace {

TEST_F(ServerFixture, PipelinedRequestsAreAnsweredInOrder) {
  start(Address::parse("127.0.0.1:0"));
  test::RawHttpClient c(port());
  c.send(post("/whole", "one") + post("/whole", "two"));  // one write
  auto first = c.read();
  auto second = c.read();
  ASSERT_TRUE(first);
  ASSERT_TRUE(second) << "the second request was never answered";
  EXPECT_EQ(first->body(), "body:one");
  EXPECT_EQ(second->body(), "body:two");
  // After a streamed answer too, and a third request later on the same connection.
  c.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n" + post("/whole", "three"));
  auto stream = c.read();
  auto third = c.read();
  ASSERT_TRUE(stream && third);
  EXPECT_EQ(stream->body(), "one\ntwo\nthree\n");
  EXPECT_EQ(third->body(), "body:three");
  c.send(post("/whole", "four"));
  auto fourth = c.read();
  ASSERT_TRUE(fourth);
  EXPECT_EQ(fourth->body(), "body:four");
}

TEST_F(ServerFixture, ErrorTextThatIsNotUtf8IsReplacedAndTheServerGoesOn) {
  start(Address::parse("127.0.0.1:0"));
  test::RawHttpClient c(port());
  c.send("GET /latin1 HTTP/1.1\r\nHost: t\r\n\r\n");
  auto res = c.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 404);
  auto body = nlohmann::json::parse(res->body());
  EXPECT_EQ(body["error"]["message"], "no file \"caf\xef\xbf\xbd\"");  // U+FFFD
  EXPECT_EQ(body["error"]["param"], "name\xef\xbf\xbd");
  c.send(post("/whole", "still here"));
  auto next = c.read();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body(), "body:still here");
}

// A check that wants `x-key: k`, on a server whose body limit would take the 8 MiB.
class HeaderCheckFixture : public ServerFixture {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.header_check = [](const RequestHeader& header, const std::string&, std::string&) {
      std::optional<Response> refusal;
      if (header["x-key"] == "k") return refusal;
      refusal.emplace(bhttp::status::unauthorized, 11);
      refusal->set(bhttp::field::www_authenticate, "Bearer");
      refusal->body() = R"({"error": "no key"})";
      return refusal;
    };
    make_server(std::move(options));
  }
};

TEST_F(HeaderCheckFixture, RefusalComesAfterTheHeaderWithoutTheBody) {
  start(Address::parse("127.0.0.1:0"));
  test::RawHttpClient c(port());
  c.send("POST /whole HTTP/1.1\r\nHost: t\r\nContent-Length: 8388608\r\n\r\n");
  auto res = c.read(2s);  // the header timeout is 30 s: only an answer to the header fits
  ASSERT_TRUE(res) << "no answer before the body";
  EXPECT_EQ(res->result_int(), 401);
  EXPECT_EQ((*res)[bhttp::field::www_authenticate], "Bearer");
  EXPECT_EQ((*res)[bhttp::field::connection], "close");
  EXPECT_TRUE(c.closed_within(2s));
  EXPECT_EQ(handled_, 0);

  // Part of the body already sent: the refusal still arrives (no reset that would lose it).
  test::RawHttpClient partial(port());
  partial.send("POST /whole HTTP/1.1\r\nHost: t\r\nContent-Length: 8388608\r\n\r\n" +
               std::string(100 * 1024, 'x'));
  auto refused = partial.read(2s);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 401);

  test::RawHttpClient ok(port());
  ok.send("POST /whole HTTP/1.1\r\nHost: t\r\nx-key: k\r\nContent-Length: 2\r\n\r\nhi");
  auto served = ok.read();
  ASSERT_TRUE(served);
  EXPECT_EQ(served->body(), "body:hi");
}

class CapFixture : public ServerFixture {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.max_connections = 2;
    make_server(std::move(options));
  }
};

// /held starts a stream and keeps it open (its first piece sent) until the test ends it; a
// cut ends it with "cut".
class GracefulStopFixture : public ServerFixture {
 protected:
  void SetUp() override {
    server_ = std::make_unique<Server>(io_, [this](std::shared_ptr<Exchange> e) {
      if (e->request().target() != "/held") return handle(e);
      e->begin_stream(ResponseHeader(bhttp::status::ok, 11));
      e->send("first\n");
      e->on_cut([this] {
        held_->send("cut\n");
        held_->finish();
        held_.reset();  // as a handler lets go of what it answered
      });
      held_ = std::move(e);
      holding_ = true;
    });
  }
  void TearDown() override {
    ServerFixture::TearDown();
    held_.reset();
  }
  // Stops the server gracefully (from its thread, as a signal handler would).
  void stop_gracefully(std::chrono::milliseconds deadline) {
    boost::asio::post(io_, [this, deadline] {
      server_->stop_gracefully(deadline, [this] { done_ = true; });
    });
  }
  static bool refused(uint16_t port) {
    try {
      test::RawHttpClient probe(port);
      return false;
    } catch (const boost::system::system_error&) {
      return true;
    }
  }

  std::shared_ptr<Exchange> held_;  // set and used on the server's one thread
  std::atomic<bool> holding_ = false;
  std::atomic<bool> done_ = false;
};

TEST_F(GracefulStopFixture, TheAnswerInProgressFinishesThenItsConnectionCloses) {
  start(Address::parse("127.0.0.1:0"));
  test::RawHttpClient streaming(port());
  streaming.send("GET /held HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(test::eventually([&] { return holding_.load(); }, 5s));
  test::RawHttpClient idle(port());
  idle.send(post("/whole", "x"));
  ASSERT_TRUE(idle.read());  // served; the connection stays open for the next request

  auto listening = port();
  stop_gracefully(30s);
  EXPECT_TRUE(idle.closed_within(2s)) << "an idle keep-alive connection stays open";
  EXPECT_TRUE(test::eventually([&] { return refused(listening); }, 2s)) << "still accepting";
  EXPECT_FALSE(done_);

  boost::asio::post(io_, [this] {
    held_->send("last\n");
    held_->finish();
    held_.reset();
  });
  auto answer = streaming.read();
  ASSERT_TRUE(answer) << "the answer in progress was cut";
  EXPECT_EQ(answer->body(), "first\nlast\n");
  EXPECT_TRUE(streaming.closed_within(2s));  // its header went out before the stop: no "close" in it
  EXPECT_TRUE(test::eventually([&] { return done_.load(); }, 2s));
}

// A connection accepted before the stop that has not sent its request yet was opened to
// send one: it gets its answer, then closes.
TEST_F(GracefulStopFixture, AConnectionWhoseFirstRequestIsOnItsWayIsAnswered) {
  start(Address::parse("127.0.0.1:0"));
  test::RawHttpClient fresh(port());
  test::RawHttpClient streaming(port());  // accepted after `fresh` (one listener, in order)
  streaming.send("GET /held HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(test::eventually([&] { return holding_.load(); }, 5s));
  stop_gracefully(30s);
  EXPECT_FALSE(fresh.closed_within(300ms)) << "closed before its first request";

  fresh.send(post("/whole", "x"));
  auto answer = fresh.read();
  ASSERT_TRUE(answer) << "the first request was not answered";
  EXPECT_EQ(answer->result_int(), 200);
  EXPECT_TRUE(fresh.closed_within(2s));
  boost::asio::post(io_, [this] {
    held_->finish();
    held_.reset();
  });
  EXPECT_TRUE(test::eventually([&] { return done_.load(); }, 2s));
}

TEST_F(GracefulStopFixture, AnAnswerStillInProgressAtTheDeadlineIsCutByItsHandler) {
  start(Address::parse("127.0.0.1:0"));
  test::RawHttpClient streaming(port());
  streaming.send("GET /held HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(test::eventually([&] { return holding_.load(); }, 5s));
  stop_gracefully(200ms);
  auto answer = streaming.read();
  ASSERT_TRUE(answer) << "cut without the handler's last words";
  EXPECT_EQ(answer->body(), "first\ncut\n");
  EXPECT_TRUE(test::eventually([&] { return done_.load(); }, 2s));
}

TEST_F(CapFixture, OneConnectionOverTheCapGets503AndRetryAfter) {
  start(Address::parse("127.0.0.1:0"));
  auto first = std::make_unique<test::RawHttpClient>(port());
  test::RawHttpClient second(port());
  for (auto* c : {first.get(), &second}) {  // both served: both hold a place
    c->send(post("/whole", "x"));
    ASSERT_TRUE(c->read());
  }
  test::RawHttpClient third(port());
  third.send(post("/whole", "x"));
  auto busy = third.read();
  ASSERT_TRUE(busy) << "refused without an answer";
  EXPECT_EQ(busy->result_int(), 503);
  EXPECT_EQ((*busy)[bhttp::field::retry_after], "1");
  EXPECT_TRUE(third.closed_within(2s));

  first.reset();  // a place comes free once the server sees the close
  EXPECT_TRUE(test::eventually([&] {
    test::RawHttpClient next(port());
    next.send(post("/whole", "again"));
    auto res = next.read();
    return res && res->result_int() == 200;
  }, 5s));
}

}  // namespace
}  // namespace duet::http
