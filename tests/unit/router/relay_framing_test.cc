// Every framing an engine may answer with, through the real duet-router binary: a scripted
// engine (in this process) writes exact bytes, piece by piece, and a raw client checks what
// the router hands on: status line, framing, body, and whether the connection lives on.

#include <gtest/gtest.h>

#include "scripted_engine.h"
#include "support/router_process.h"
#include "watch_objects.h"

namespace duet::router {
namespace {

namespace bhttp = boost::beast::http;
using test::RawClient;
using test::Script;
using test::ScriptedEngine;
using namespace std::chrono_literals;

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
    // The final answer comes a moment after the hint, as from an engine that thinks.
    scripts["/early-hints"] = {{"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n",
                                kHead200 + "Content-Length: 12\r\n\r\nearly answer"},
                               false, false, 100ms};
    scripts["/interims-at-once"] = {{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
                                     "Link: </s.css>\r\n\r\n" +
                                     kHead200 + "Content-Length: 2\r\n\r\nok"}};
    Script endless{{kHead200 + "Transfer-Encoding: chunked\r\n\r\n1;"}};
    endless.pieces.resize(200, std::string(64 * 1024, 'x'));  // 12.5 MiB of one chunk line
    scripts["/endless-chunk-line"] = std::move(endless);
    scripts["/switching"] = {
        {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n"}};
    const std::string chunked = kHead200 + "Transfer-Encoding: chunked\r\n\r\n";
    const std::string trailer = "2\r\nok\r\n0\r\nSet-Cookie: from-trailer\r\nX-Tag: t\r\n\r\n";
    scripts["/trailer-at-once"] = {{chunked + trailer}};
    scripts["/trailer-later"] = {{chunked, trailer}, false, false, 20ms};
    // An empty body whose trailer begins with the header and ends later: the few bytes
    // buffered are not parsed again until more come (a Debug build's Beast asserted).
    scripts["/trailer-begun"] = {{chunked + "0\r\nX", "-Tag: t\r\n\r\n"}, false, false, 20ms};
    scripts["/bad-chunk-at-once"] = {{chunked + "zz\r\nok\r\n0\r\n\r\n"}};
    scripts["/status-004"] = {{"HTTP/1.1 004 Odd\r\nContent-Length: 2\r\n\r\nok"}};
    scripts["/connection-lines"] = {
        {"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nX-Kept: 1\r\nConnection: x-secret\r\n"
         "X-Secret: 1\r\nContent-Length: 2\r\n\r\nok"}};
    engine_ = std::make_unique<ScriptedEngine>(std::move(scripts));
    using namespace router::test;
    json route = backend_route("all", "scripted", "/");
    route["spec"]["timeouts"] = {{"firstByteSeconds", 1}};
    route["spec"]["retries"] = {{"attempts", 1}};
    start_duetd(snapshot(1, json::array({route}), json::array({deployment("scripted")}),
                         json::array({engine("scripted-0", "scripted", engine_->endpoint())})));
    // One worker: one pool of engine connections, which every client's request shares.
    start_router("listen: [{address: '127.0.0.1:1'}]\nlimits: {headerTimeoutSeconds: 1}\n",
                 {"--listen", "127.0.0.1:0", "--threads", "1"});
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

TEST_F(RelayFraming, EndlessChunkLineFromAnEngineIsCutOffAndClosesTheClientConnection) {
  long before = duet::test::rss_kib(router_->process().pid());
  RawClient client(router_->proxy().port);
  boost::system::error_code ec;
  try {
    client.exchange("POST", "/endless-chunk-line");
    ADD_FAILURE() << "a chunk line that never ends was read as a body";
  } catch (const boost::system::system_error& e) {
    ec = e.code();
  }
  EXPECT_EQ(ec, bhttp::error::partial_message);  // not a wait for the rest
  long after = duet::test::rss_kib(router_->process().pid());
  EXPECT_LT(after - before, 8 * 1024) << before << " KiB → " << after << " KiB";
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

TEST_F(RelayFraming, EarlyHintsAreSkippedAndTheNextClientGetsItsOwnAnswer) {
  RawClient first(router_->proxy().port);
  auto answer = first.exchange("POST", "/early-hints");
  EXPECT_EQ(answer.result_int(), 200);
  EXPECT_EQ(answer.body(), "early answer");
  EXPECT_EQ(answer.count(bhttp::field::link), 0u);  // the hint's field stays with the hint
  // Another client, on another connection: the pooled engine connection holds nothing of
  // the first answer.
  RawClient second(router_->proxy().port);
  EXPECT_EQ(second.exchange("POST", "/length-split").body(), "hello world");
  EXPECT_EQ(first.exchange("POST", "/length-split").body(), "hello world");
}

TEST_F(RelayFraming, InterimResponsesInOneReadWithTheFinalOneAreSkipped) {
  RawClient client(router_->proxy().port);
  auto answer = client.exchange("POST", "/interims-at-once");
  EXPECT_EQ(answer.result_int(), 200);
  EXPECT_EQ(answer.body(), "ok");
  EXPECT_EQ(client.exchange("POST", "/length-split").body(), "hello world");
}

TEST_F(RelayFraming, SwitchingProtocolsFromAnEngineIs502AndItsConnectionIsNotReused) {
  RawClient client(router_->proxy().port);
  auto answer = client.exchange("POST", "/switching");
  EXPECT_EQ(answer.result_int(), 502);
  EXPECT_NE(answer.body().find("101 Switching Protocols"), std::string::npos) << answer.body();
  EXPECT_EQ(client.exchange("POST", "/length-split").body(), "hello world");
  EXPECT_EQ(engine_->connections(), 2u);  // the switched one was closed, not pooled
}

// An engine's trailer fields are dropped, never sent as header fields, however the
// response arrives (in one read, Beast's eager parse had merged them into the header).
TEST_F(RelayFraming, TrailerFieldsOfAnEngineDoNotBecomeHeaderFields) {
  RawClient client(router_->proxy().port);
  for (const std::string target : {"/trailer-at-once", "/trailer-later", "/trailer-begun"}) {
    auto answer = client.exchange("POST", target);
    EXPECT_EQ(answer.result_int(), 200) << target;
    EXPECT_EQ(answer.body(), target == "/trailer-begun" ? "" : "ok") << target;
    EXPECT_EQ(answer.count(bhttp::field::set_cookie), 0u) << target;
    EXPECT_EQ(answer.count("x-tag"), 0u) << target;
  }
}

TEST_F(RelayFraming, FieldsNamedInAnyConnectionLineOfAnEngineDoNotReachTheClient) {
  RawClient client(router_->proxy().port);
  auto answer = client.exchange("POST", "/connection-lines");
  EXPECT_EQ(answer.body(), "ok");
  EXPECT_EQ(answer.count("x-secret"), 0u);
  EXPECT_EQ(answer["x-kept"], "1");
}

// A good header with a bad body in the same read: the response has started (its header goes
// out, then the connection closes), as when the bad body comes in a later read; no 502.
TEST_F(RelayFraming, BadBodyArrivingWithTheHeaderCutsTheStartedResponse) {
  RawClient client(router_->proxy().port);
  client.write(RawClient::request("POST", "/bad-chunk-at-once"));
  EXPECT_EQ(client.read_interim().result_int(), 200);
  EXPECT_TRUE(client.closed());
}

// Beast reads any three digits as a status; one under 100 has no meaning to relay.
TEST_F(RelayFraming, StatusUnder100FromAnEngineIs502) {
  RawClient client(router_->proxy().port);
  auto answer = client.exchange("POST", "/status-004");
  EXPECT_EQ(answer.result_int(), 502);
  EXPECT_NE(answer.body().find("bad status"), std::string::npos) << answer.body();
}

}  // namespace
}  // namespace duet::router
