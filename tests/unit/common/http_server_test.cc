// The shared HTTP server and client against each other, on loopback and a unix socket.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <thread>

#include "duet/common/http_client.h"
#include "duet/common/http_error.h"
#include "duet/common/http_server.h"
#include "support/temp_dir.h"

namespace duet::http {
namespace {

// A server on its own thread: whole replies on /whole, a 3-chunk stream on /stream,
// an HttpError on /error.
class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.body_limit = 1024;
    server_ = std::make_unique<Server>(io_, [this](std::shared_ptr<Exchange> e) { handle(e); },
                                       options);
  }
  void start(const Address& address) {
    server_->listen(address);
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    boost::asio::post(io_, [this] { server_->stop(); });
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }
  void handle(const std::shared_ptr<Exchange>& e) {
    auto target = e->request().target();
    if (target == "/whole") return e->reply(bhttp::status::ok, "body:" + e->request().body(), "text/plain");
    if (target == "/error") throw HttpError(422, "field is wrong", "spec.x");
    ResponseHeader header(bhttp::status::ok, 11);
    e->begin_stream(header);
    for (const char* piece : {"one\n", "two\n", "three\n"}) e->send(piece);
    e->finish();
  }
  Address tcp() {
    Address a = Address::parse("127.0.0.1:" + std::to_string(server_->ports().at(0)));
    return a;
  }

  boost::asio::io_context io_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

TEST_F(ServerFixture, WholeReplyOverTcp) {
  start(Address::parse("127.0.0.1:0"));
  auto res = fetch_sync(tcp(), make_request(bhttp::verb::post, "/whole", tcp(), "hi"), std::chrono::seconds(5));
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "body:hi");
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
