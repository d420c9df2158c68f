#pragma once
// The shared HTTP server on a thread of its own, for http_server_test and accept_emfile_test.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "duet/common/http_error.h"
#include "duet/common/http_server.h"

namespace duet::http {

// A server on its own thread: whole replies on /whole, a 3-chunk stream on /stream,
// an HttpError on /error and one whose text is not UTF-8 on /latin1.
class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.body_limit = 1024;
    make_server(options);
  }
  void make_server(ServerOptions options) {
    server_ = std::make_unique<Server>(io_, [this](std::shared_ptr<Exchange> e) { handle(e); },
                                       std::move(options));
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
    ++handled_;
    auto target = e->request().target();
    if (target == "/whole") return e->reply(bhttp::status::ok, "body:" + e->request().body(), "text/plain");
    if (target == "/remote") return e->reply(bhttp::status::ok, e->remote(), "text/plain");
    if (target == "/error") throw HttpError(422, "field is wrong", "spec.x");
    if (target == "/latin1") throw HttpError(404, "no file \"caf\xe9\"", "name\xff");
    ResponseHeader header(bhttp::status::ok, 11);
    e->begin_stream(header);
    for (const char* piece : {"one\n", "two\n", "three\n"}) e->send(piece);
    e->finish();
  }
  Address tcp() {
    Address a = Address::parse("127.0.0.1:" + std::to_string(server_->ports().at(0)));
    return a;
  }

  uint16_t port() const { return server_->ports().at(0); }

  boost::asio::io_context io_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::atomic<int> handled_ = 0;
};

inline std::string post(std::string_view target, std::string_view body) {
  std::string text = "POST ";
  text.append(target).append(" HTTP/1.1\r\nHost: t\r\nContent-Length: ");
  return text.append(std::to_string(body.size())).append("\r\n\r\n").append(body);
}

}  // namespace duet::http
