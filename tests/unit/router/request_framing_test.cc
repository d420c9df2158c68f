// What of a client's request reaches an engine, through the real duet-router binary: a raw
// client writes exact bytes, a scripted engine records what it received. Framing the router
// does not accept is refused and closes the connection (nothing smuggled behind it), chunk
// lines and trailers cannot grow the router's memory, and the headers an engine gets carry
// neither the client's credentials nor a forwarding chain the client made up.

#include <gtest/gtest.h>

#include "scripted_engine.h"
#include "support/router_process.h"
#include "watch_objects.h"

namespace duet::router {
namespace {

namespace bhttp = boost::beast::http;
using test::RawClient;
using test::Received;
using test::Script;
using test::ScriptedEngine;
using namespace std::chrono_literals;

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

class RequestFraming : public duet::test::RouterTest {
 protected:
  void SetUp() override {
    engine_ = std::make_unique<ScriptedEngine>(std::map<std::string, Script>{{"/ok", {{kOk}}}});
    using namespace router::test;
    start_duetd(snapshot(1, json::array({backend_route("all", "scripted", "/")}),
                         json::array({deployment("scripted")}),
                         json::array({engine("scripted-0", "scripted", engine_->endpoint())})));
  }

  void start(const std::string& yaml = {}) {
    start_router("limits: {headerTimeoutSeconds: 2}\n" + yaml);
  }

  // The one request the engine got, after a client got its answer.
  Received only_request() {
    auto received = engine_->received();
    EXPECT_EQ(received.size(), 1u);
    return received.empty() ? Received{} : received.front();
  }

  std::unique_ptr<ScriptedEngine> engine_;
};

TEST_F(RequestFraming, TransferEncodingOtherThanChunkedAloneIsRefusedAndNothingIsSmuggled) {
  start();
  const std::string smuggled = "GET /SMUGGLED HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
  const std::vector<std::pair<std::string, int>> cases = {
      {"Transfer-Encoding: gzip\r\n", 400},
      {"Transfer-Encoding: xchunked\r\n", 400},
      {"Transfer-Encoding: chunked, identity\r\n", 400},
      {"Transfer-Encoding: chunked, chunked\r\n", 400},
      {"Transfer-Encoding: chunked;x=1\r\n", 400},
      {"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", 400},
      {"Transfer-Encoding: gzip\r\nContent-Length: 5\r\n", 400},
      {"Transfer-Encoding: gzip, chunked\r\n", 501},
  };
  for (const auto& [fields, status] : cases) {
    RawClient client(router_->proxy().port);
    client.write("POST /ok HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n" + smuggled);
    auto answer = client.read();
    EXPECT_EQ(answer.result_int(), status) << fields;
    EXPECT_NE(answer.body().find("Transfer-Encoding"), std::string::npos) << answer.body();
    EXPECT_TRUE(client.closed()) << fields;
  }
  RawClient old(router_->proxy().port);
  old.write("POST /ok HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled);
  EXPECT_EQ(old.read().result_int(), 400);
  EXPECT_TRUE(old.closed());
  // Every connection is closed: nothing of them can still reach the engine.
  EXPECT_TRUE(engine_->received().empty()) << engine_->received().front().target;
}

TEST_F(RequestFraming, ChunkedUploadReachesTheEngineWithALengthAndWithoutItsTrailer) {
  start();
  RawClient client(router_->proxy().port);
  client.write(
      "POST /ok HTTP/1.1\r\nHost: x\r\nX-Tag: header\r\nTransfer-EncodinG: CHUNKED\r\n\r\n"
      "1;ext=1\r\n{\r\n1\r\n}\r\n0\r\n"
      "X-Injected: 1\r\nX-Tag: trailer\r\nAuthorization: Bearer forged\r\n\r\n");
  auto answer = client.read();
  EXPECT_EQ(answer.result_int(), 200);
  EXPECT_EQ(answer.body(), "ok");
  auto got = only_request();
  EXPECT_EQ(got.body, "{}");
  EXPECT_EQ(got.fields[bhttp::field::content_length], "2");
  EXPECT_EQ(got.fields.count(bhttp::field::transfer_encoding), 0u);
  EXPECT_EQ(got.fields.count("x-injected"), 0u);
  EXPECT_EQ(got.fields.count(bhttp::field::authorization), 0u);
  EXPECT_EQ(got.fields.count("x-tag"), 1u);
  EXPECT_EQ(got.fields["x-tag"], "header");
  EXPECT_EQ(client.exchange("POST", "/ok").body(), "ok");  // the connection goes on
}

// `opening` starts a part of a chunked body that never ends; the router must refuse it once
// it passes maxHeaderBytes, not buffer it (the issue saw 300 MB in 1.4 s).
void expect_cut_off(duet::test::RouterProcess& router, const std::string& opening) {
  long before = duet::test::rss_kib(router.process().pid());
  RawClient client(router.proxy().port);
  client.write("POST /ok HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + opening);
  constexpr std::size_t kSent = 100 << 20;
  std::size_t taken = client.write_repeatedly(std::string(64 * 1024, 'a'), kSent);
  EXPECT_LT(taken, kSent) << "the router took all of an endless line";
  auto answer = client.read();
  EXPECT_EQ(answer.result_int(), 400);
  EXPECT_NE(answer.body().find("limits.maxHeaderBytes"), std::string::npos) << answer.body();
  long after = duet::test::rss_kib(router.process().pid());
  ASSERT_GT(before, 0);
  EXPECT_LT(after - before, 64 * 1024) << before << " KiB → " << after << " KiB";
}

TEST_F(RequestFraming, EndlessChunkExtensionIsRefusedWithinMaxHeaderBytes) {
  start();
  expect_cut_off(*router_, "1;");
}

TEST_F(RequestFraming, EndlessTrailerIsRefusedWithinMaxHeaderBytes) {
  start();
  expect_cut_off(*router_, "1\r\n{\r\n0\r\nX-Long: ");
}

// Repeated lengths must be the same text: Beast compares numbers, and `2` and `02` passed.
TEST_F(RequestFraming, RepeatedContentLengthsThatDifferInTextAreRefused) {
  start();
  RawClient client(router_->proxy().port);
  client.write("POST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 02\r\n\r\n{}");
  auto answer = client.read();
  EXPECT_EQ(answer.result_int(), 400);
  EXPECT_NE(answer.body().find("Content-Length given more than once"), std::string::npos) << answer.body();
  RawClient same(router_->proxy().port);
  same.write("POST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(same.read().result_int(), 200);
  EXPECT_EQ(engine_->received().size(), 1u);
}

// maxHeaderBytes bounds the whole header, its start line included (Beast alone let the
// start line come on top when the header came in one read). How reads split a header is
// fuzz/request_framing_fuzz.cc's to vary.
TEST_F(RequestFraming, MaxHeaderBytesBoundsTheWholeHeaderStartLineIncluded) {
  start_router("limits: {maxHeaderBytes: 1024}\n");
  for (std::size_t size : {1024u, 1025u, 1040u}) {
    std::string head = "GET /ok HTTP/1.1\r\nHost: x\r\nX-Pad: ";
    RawClient client(router_->proxy().port);
    client.write(head + std::string(size - head.size() - 4, 'p') + "\r\n\r\n");
    EXPECT_EQ(client.read().result_int(), size <= 1024 ? 200 : 431) << size << " bytes";
  }
}

// A chunk line or trailer section over maxHeaderBytes is refused when it comes in one read
// too, not only when the router has to buffer it (the fuzzer saw both outcomes).
TEST_F(RequestFraming, ChunkLineOrTrailerOverMaxHeaderBytesIsRefusedWhenItComesAtOnce) {
  start_router("limits: {maxHeaderBytes: 1024}\n");
  const std::string head = "POST /ok HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string long_value(1100, 'v');
  for (const std::string& body : {"2;ext=" + long_value + "\r\n{}\r\n0\r\n\r\n",
                                  "2\r\n{}\r\n0\r\nX-Long: " + long_value + "\r\n\r\n"}) {
    RawClient client(router_->proxy().port);
    client.write(head + body);
    auto answer = client.read();
    EXPECT_EQ(answer.result_int(), 400) << body.substr(0, 12);
    EXPECT_NE(answer.body().find("limits.maxHeaderBytes"), std::string::npos) << answer.body();
  }
  RawClient client(router_->proxy().port);  // just within the limit
  client.write(head + "2\r\n{}\r\n0\r\nX-Long: " + std::string(900, 'v') + "\r\n\r\n");
  EXPECT_EQ(client.read().result_int(), 200);
  EXPECT_EQ(engine_->received().size(), 1u);
}

// At the largest maxHeaderBytes a field longer than Beast can hold (65,533 bytes) is
// answered, not dropped: in the header by the limit, in a trailer (bounded by the read
// buffer only) whether Beast throws on it or the buffer passes the limit first.
TEST_F(RequestFraming, FieldsOverWhatBeastHoldsAreAnsweredAtTheLargestHeaderLimit) {
  start_router("limits: {headerTimeoutSeconds: 2, maxHeaderBytes: 65535}\n");
  const std::string huge(70 * 1000, 'v');
  RawClient header(router_->proxy().port);
  header.write("POST /ok HTTP/1.1\r\nHost: x\r\nX-Huge: " + huge + "\r\nContent-Length: 2\r\n\r\n{}");
  auto too_large = header.read();
  EXPECT_EQ(too_large.result_int(), 431);
  EXPECT_NE(too_large.body().find("65535"), std::string::npos) << too_large.body();
  RawClient trailer(router_->proxy().port);
  trailer.write("POST /ok HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                "1\r\n{\r\n1\r\n}\r\n0\r\nX-Huge: " + huge + "\r\n\r\n");
  auto bad = trailer.read();
  EXPECT_EQ(bad.result_int(), 400);
  EXPECT_NE(bad.body().find("limits.maxHeaderBytes"), std::string::npos) << bad.body();
  EXPECT_TRUE(engine_->received().empty());
}

TEST_F(RequestFraming, CredentialsOfTheClientAreNotForwarded) {
  start();
  RawClient client(router_->proxy().port);
  client.write(RawClient::request(
      "POST", "/ok", 11, "Authorization: Bearer secret\r\nProxy-Authorization: Basic eDp5\r\n"));
  EXPECT_EQ(client.read().result_int(), 200);
  auto got = only_request();
  EXPECT_EQ(got.fields.count(bhttp::field::authorization), 0u);
  EXPECT_EQ(got.fields.count(bhttp::field::proxy_authorization), 0u);
}

// Every Connection line names hop-by-hop fields, not only the first (RFC 9110 §7.6.1).
TEST_F(RequestFraming, FieldsNamedInAnyConnectionLineDoNotReachTheEngine) {
  start();
  RawClient client(router_->proxy().port);
  client.write(RawClient::request("POST", "/ok", 11,
                                  "Connection: keep-alive\r\nX-Kept: 1\r\nConnection: x-secret, "
                                  "X-Other\r\nX-Secret: 1\r\nX-Other: 2\r\n"));
  EXPECT_EQ(client.read().result_int(), 200);
  auto got = only_request();
  EXPECT_EQ(got.fields.count("x-secret"), 0u);
  EXPECT_EQ(got.fields.count("x-other"), 0u);
  EXPECT_EQ(got.fields.count(bhttp::field::connection), 0u);
  EXPECT_EQ(got.fields["x-kept"], "1");
}

TEST_F(RequestFraming, ForwardedForOfAClientIsReplacedByItsAddress) {
  start();
  RawClient client(router_->proxy().port);
  client.write(RawClient::request("POST", "/ok", 11,
                                  "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 7.7.7.7\r\n"));
  EXPECT_EQ(client.read().result_int(), 200);
  auto got = only_request();
  EXPECT_EQ(got.fields.count("x-forwarded-for"), 1u);
  EXPECT_EQ(got.fields["x-forwarded-for"], "127.0.0.1");
}

TEST_F(RequestFraming, ForwardedForOfATrustedProxyIsAppendedTo) {
  start("trustedProxies: ['10.0.0.0/8', '127.0.0.1']\n");
  RawClient client(router_->proxy().port);
  client.write(RawClient::request("POST", "/ok", 11,
                                  "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 7.7.7.7\r\n"));
  EXPECT_EQ(client.read().result_int(), 200);
  EXPECT_EQ(only_request().fields["x-forwarded-for"], "6.6.6.6, 7.7.7.7, 127.0.0.1");
}

}  // namespace
}  // namespace duet::router
