// Every framing an engine may answer with, through the real duet-router binary: a scripted
// engine (in this process) writes exact bytes, piece by piece, and a raw client checks what
// the router hands on: status line, framing, body, and whether the connection lives on.

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <thread>

#include "support/router_process.h"
#include "watch_objects.h"

namespace duet::router {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// What the engine answers to one request target.
struct Script {
  std::vector<std::string> pieces;  // written one write each, in order
  bool close_after = false;         // then closes the connection
  bool silent = false;              // answers nothing and keeps the connection open
};

// An engine that answers each request with the bytes scripted for its target.
class ScriptedEngine {
 public:
  explicit ScriptedEngine(std::map<std::string, Script> scripts)
      : scripts_(std::move(scripts)), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io_, accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ScriptedEngine() {
    io_.stop();
    thread_.join();
  }

  std::string endpoint() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }

 private:
  asio::awaitable<void> accept() {
    for (;;) {
      tcp::socket socket = co_await acceptor_.async_accept(asio::use_awaitable);
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    std::string in;
    for (;;) {
      std::size_t head = co_await asio::async_read_until(socket, asio::dynamic_buffer(in),
                                                         "\r\n\r\n", asio::use_awaitable);
      bhttp::request_parser<bhttp::empty_body> parser;
      parser.skip(true);
      boost::system::error_code ec;
      parser.put(asio::buffer(in.data(), head), ec);
      std::size_t length = parser.content_length().value_or(0);
      if (in.size() < head + length)
        co_await asio::async_read(socket, asio::dynamic_buffer(in),
                                  asio::transfer_exactly(head + length - in.size()),
                                  asio::use_awaitable);
      in.erase(0, head + length);
      const Script& script = scripts_.at(std::string(parser.get().target()));
      if (script.silent) {
        held_.push_back(std::move(socket));
        co_return;
      }
      for (const auto& piece : script.pieces)
        co_await asio::async_write(socket, asio::buffer(piece), asio::use_awaitable);
      if (script.close_after) co_return;
    }
  }

  std::map<std::string, Script> scripts_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::vector<tcp::socket> held_;
  std::thread thread_;
};

// A client connection that writes raw requests and parses what comes back.
class RawClient {
 public:
  explicit RawClient(uint16_t port) : socket_(io_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
    timeval limit{10, 0};  // a router that never answers fails the test instead of hanging it
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  }

  bhttp::response<bhttp::string_body> exchange(const std::string& method,
                                               const std::string& target, int version = 11) {
    write(request(method, target, version));
    return read(method == "HEAD");
  }

  static std::string request(const std::string& method, const std::string& target,
                             int version = 11, const std::string& extra_fields = {}) {
    return method + " " + target + " HTTP/1." + std::to_string(version % 10) +
           "\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n" +
           extra_fields + "\r\n{}";
  }
  void write(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  bhttp::response<bhttp::string_body> read(bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(head);
    bhttp::read(socket_, buffer_, parser);
    return parser.release();
  }
  // The next response's header only (an interim 100 Continue).
  bhttp::response<bhttp::empty_body> read_interim() {
    bhttp::response_parser<bhttp::empty_body> parser;
    bhttp::read_header(socket_, buffer_, parser);
    return parser.release();
  }

  // Whether the router closed the connection (EOF on the next read).
  bool closed() {
    boost::system::error_code ec;
    bhttp::response<bhttp::string_body> ignored;
    bhttp::read(socket_, buffer_, ignored, ec);
    return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset;
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

const std::string kHead200 = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n";

class RelayFraming : public duet::test::RouterTest {
 protected:
  void SetUp() override {
    std::map<std::string, Script> scripts;
    scripts["/length-split"] = {{kHead200 + "Content-Length: 11\r\n\r\nhello", " world"}};
    scripts["/chunked-split"] = {{kHead200 + "Transfer-Encoding: chunked\r\n\r\n5\r",
                                  "\nhel", "lo\r\n6\r\n world\r\n0\r\n\r\n"}};
    scripts["/until-close"] = {{kHead200 + "\r\nuntil", " close"}, true};
    scripts["/head"] = {{kHead200 + "Content-Length: 42\r\n\r\n"}};
    scripts["/head-chunked"] = {{kHead200 + "Transfer-Encoding: chunked\r\n\r\n"}};
    scripts["/no-content"] = {{"HTTP/1.1 204 Nothing Here\r\nX-Engine: kept\r\n\r\n"}};
    scripts["/cut"] = {{kHead200 + "Content-Length: 100\r\n\r\nonly ten b"}, true};
    scripts["/silent"] = {{}, false, true};
    engine_ = std::make_unique<ScriptedEngine>(std::move(scripts));
    using namespace router::test;
    json route = backend_route("all", "scripted", "/");
    route["spec"]["timeouts"] = {{"firstByteSeconds", 1}};
    route["spec"]["retries"] = {{"attempts", 1}};
    start_duetd(snapshot(1, json::array({route}), json::array({deployment("scripted")}),
                         json::array({engine("scripted-0", "scripted", engine_->endpoint())})));
    start_router("listen: [{address: '127.0.0.1:1'}]\nlimits: {headerTimeoutSeconds: 1}\n");
  }

  // An HTTP/1.1 client gets `body` chunked, and its connection carries the next request.
  void expect_chunked_on_a_kept_connection(const std::string& target, const std::string& body) {
    RawClient client(router_->proxy().port);
    auto res = client.exchange("POST", target);
    EXPECT_EQ(res.body(), body);
    EXPECT_TRUE(res.chunked());
    EXPECT_EQ(client.exchange("POST", "/length-split").body(), "hello world");
  }

  std::unique_ptr<ScriptedEngine> engine_;
};

TEST_F(RelayFraming, ContentLengthBodyInTwoPiecesArrivesWholeAndTheConnectionLivesOn) {
  RawClient client(router_->proxy().port);
  for (int i = 0; i < 3; ++i) {
    auto res = client.exchange("POST", "/length-split");
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "hello world");
    EXPECT_EQ(res[bhttp::field::content_length], "11");
    EXPECT_EQ(res["x-duet-backend"], "scripted/scripted-0");
  }
}

TEST_F(RelayFraming, ChunkedBodyWithAChunkHeaderSplitAcrossReadsIsDecodedAndReframed) {
  expect_chunked_on_a_kept_connection("/chunked-split", "hello world");
}

TEST_F(RelayFraming, BodyUntilTheEngineClosesReachesAnHttp11ClientChunkedOnAKeptConnection) {
  expect_chunked_on_a_kept_connection("/until-close", "until close");
}

TEST_F(RelayFraming, Http10ClientGetsAChunkedBodyUnchunkedUntilClose) {
  RawClient client(router_->proxy().port);
  auto res = client.exchange("POST", "/chunked-split", 10);
  EXPECT_EQ(res.version(), 10);
  EXPECT_EQ(res.body(), "hello world");
  EXPECT_FALSE(res.chunked());
  EXPECT_TRUE(client.closed());
}

TEST_F(RelayFraming, HeadAnswerKeepsItsContentLengthAndCarriesNoBody) {
  RawClient client(router_->proxy().port);
  auto res = client.exchange("HEAD", "/head");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[bhttp::field::content_length], "42");
  EXPECT_EQ(res.body(), "");
  EXPECT_EQ(client.exchange("POST", "/length-split").body(), "hello world");
  // Nothing follows a HEAD answer's header, not even the last chunk its framing implies.
  auto chunked = client.exchange("HEAD", "/head-chunked");
  EXPECT_TRUE(chunked.chunked());
  EXPECT_EQ(client.exchange("POST", "/length-split").body(), "hello world");
}

TEST_F(RelayFraming, NoContentKeepsTheEnginesReasonPhraseAndHeaders) {
  RawClient client(router_->proxy().port);
  auto res = client.exchange("POST", "/no-content");
  EXPECT_EQ(res.result_int(), 204);
  EXPECT_EQ(res.reason(), "Nothing Here");
  EXPECT_EQ(res["x-engine"], "kept");
  EXPECT_EQ(client.exchange("POST", "/length-split").body(), "hello world");
}

TEST_F(RelayFraming, BodyCutShortByTheEngineClosesTheClientConnection) {
  RawClient client(router_->proxy().port);
  boost::system::error_code ec;
  try {
    client.exchange("POST", "/cut");
    ADD_FAILURE() << "a 100-byte body of which 10 came was read whole";
  } catch (const boost::system::system_error& e) {
    ec = e.code();
  }
  EXPECT_EQ(ec, bhttp::error::partial_message);
}

TEST_F(RelayFraming, PipelinedRequestsAreAnsweredInOrderOnOneConnection) {
  RawClient client(router_->proxy().port);
  client.write(RawClient::request("POST", "/length-split") +
               RawClient::request("POST", "/no-content") +
               RawClient::request("POST", "/chunked-split"));
  EXPECT_EQ(client.read().body(), "hello world");
  EXPECT_EQ(client.read().result_int(), 204);
  auto third = client.read();
  EXPECT_TRUE(third.chunked());
  EXPECT_EQ(third.body(), "hello world");
}

TEST_F(RelayFraming, ExpectContinueGetsA100BeforeTheBodyIsSent) {
  RawClient client(router_->proxy().port);
  std::string request = RawClient::request("POST", "/length-split", 11, "Expect: 100-continue\r\n");
  std::size_t body = request.size() - 2;
  client.write(request.substr(0, body));
  EXPECT_EQ(client.read_interim().result_int(), 100);
  client.write(request.substr(body));
  EXPECT_EQ(client.read().body(), "hello world");
}

TEST_F(RelayFraming, IdleKeepAliveConnectionIsClosedAtTheHeaderTimeout) {
  RawClient client(router_->proxy().port);
  EXPECT_EQ(client.exchange("POST", "/length-split").body(), "hello world");
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.closed());  // blocks until the router closes (10 s at most)
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, 900ms);
  EXPECT_LT(waited, 5s);
}

TEST_F(RelayFraming, EngineSilentPastFirstByteTimeoutIs504) {
  RawClient client(router_->proxy().port);
  auto started = std::chrono::steady_clock::now();
  auto res = client.exchange("POST", "/silent");
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(res.result_int(), 504);
  EXPECT_GE(waited, 1s);
  EXPECT_LT(waited, 5s);
}

}  // namespace
}  // namespace duet::router
