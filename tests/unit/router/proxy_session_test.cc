// ProxySession with its relays, in memory: what a client gets for what the engines do,
// with failures injected at a chosen read or write (Beast's test::fail_count).
#include <gtest/gtest.h>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

#include "session_harness.h"

namespace duet::router::test {
namespace {

namespace asio = boost::asio;

bool ends_with(std::string_view text, std::string_view end) {
  return text.size() >= end.size() && text.substr(text.size() - end.size()) == end;
}

// One completion request on a new connection, run until everything waits.
ClientConnection send_request(SessionHarness& h) {
  auto client = h.connect();
  client.send(completion_request());
  h.settle();
  return client;
}

// The client got exactly one response, with `status`.
void expect_one_response(const std::string& got, int status) {
  EXPECT_EQ(response_count(got), 1u) << got;
  EXPECT_EQ(got.rfind("HTTP/1.1 " + std::to_string(status) + " ", 0), 0u) << got;
}

TEST(ProxySession, RelaysARequestToAnEngineAndItsResponseBack) {
  SessionHarness h({{.response = engine_ok()}});
  auto client = send_request(h);

  std::string got = client.received();
  expect_one_response(got, 200);
  EXPECT_NE(got.find("x-duet-route: chat\r\n"), std::string::npos) << got;
  EXPECT_TRUE(ends_with(got, R"({"ok":true})")) << got;
  EXPECT_FALSE(client.closed());  // keep-alive
  ASSERT_EQ(h.engines().connections().size(), 1u);
  std::string sent = h.engines().connections()[0]->engine.str();
  EXPECT_EQ(sent.rfind("POST /v1/completions HTTP/1.1\r\n", 0), 0u) << sent;
  EXPECT_TRUE(ends_with(sent, R"({"model":"m","prompt":"hi"})")) << sent;
  ASSERT_EQ(h.records().size(), 1u);
  const RequestRecord& r = h.records()[0];
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.attempts, 1u);
  EXPECT_EQ(r.route, "chat");
  EXPECT_EQ(r.target, "/v1/completions");
  EXPECT_EQ(r.bytes, 11u);
  EXPECT_EQ(r.error, "");
}

// A failure before the engine's response header goes to the other endpoint (the route's
// two attempts); when both fail the client gets one local 502 and keeps its connection.
struct BeforeHeader {
  const char* name;
  std::vector<EngineScript> engines;
  int status;
};

class UpstreamFailsBeforeHeader : public ::testing::TestWithParam<BeforeHeader> {};

TEST_P(UpstreamFailsBeforeHeader, RetriesTheOtherEndpointOrAnswers502) {
  SessionHarness h(GetParam().engines);
  auto client = send_request(h);

  expect_one_response(client.received(), GetParam().status);
  EXPECT_FALSE(client.closed());
  const auto& tried = h.engines().connections();
  ASSERT_EQ(tried.size(), 2u);
  EXPECT_NE(tried[0]->endpoint, tried[1]->endpoint);  // not the failed one again
  ASSERT_EQ(h.records().size(), 1u);
  EXPECT_EQ(h.records()[0].status, GetParam().status);
  EXPECT_EQ(h.records()[0].attempts, 2u);
  EXPECT_EQ(h.records()[0].error.empty(), GetParam().status == 200) << h.records()[0].error;
}

const EngineScript kAnswers{.response = engine_ok()};

INSTANTIATE_TEST_SUITE_P(
    Table, UpstreamFailsBeforeHeader,
    ::testing::Values(
        BeforeHeader{"ConnectRefused", {{.refuse = true}, kAnswers}, 200},
        BeforeHeader{"RequestWriteFails", {{.response = engine_ok(), .fail_at = 1}, kAnswers}, 200},
        BeforeHeader{"ReadFailsBeforeHeader", {{.response = engine_ok(), .fail_at = 2}, kAnswers},
                     200},
        BeforeHeader{"EngineClosesWithoutAnswer", {{.close_after = true}, kAnswers}, 200},
        BeforeHeader{"CutHeader", {{.response = "HTTP/1.1 200 OK\r\nCont", .close_after = true},
                                   kAnswers},
                     200},
        BeforeHeader{"BothRefuse", {{.refuse = true}, {.refuse = true}}, 502},
        BeforeHeader{"BothFailToRead",
                     {{.response = engine_ok(), .fail_at = 2}, {.fail_at = 1}},
                     502}),
    [](const auto& info) { return std::string(info.param.name); });

// Once the header is out the response is the client's: a failure after it closes the client
// connection, and nothing else (no second response, no local error reply) is written.
struct AfterHeader {
  const char* name;
  EngineScript engine;
};

class UpstreamFailsAfterHeader : public ::testing::TestWithParam<AfterHeader> {};

TEST_P(UpstreamFailsAfterHeader, ClosesTheClientConnection) {
  SessionHarness h({GetParam().engine});
  auto client = send_request(h);

  std::string got = client.received();
  expect_one_response(got, 200);
  EXPECT_NE(got.find("abc"), std::string::npos) << got;  // the piece that came is passed on
  EXPECT_TRUE(client.closed());
  EXPECT_EQ(h.engines().connections().size(), 1u);  // no retry
  ASSERT_EQ(h.records().size(), 1u);
  EXPECT_EQ(h.records()[0].status, 200);
  EXPECT_NE(h.records()[0].error, "");
}

const std::string kLengthCut = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc";
const std::string kChunkedCut = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n";

INSTANTIATE_TEST_SUITE_P(
    Table, UpstreamFailsAfterHeader,
    ::testing::Values(AfterHeader{"ReadFailsInLengthBody", {.response = kLengthCut, .fail_at = 3}},
                      AfterHeader{"EngineClosesInLengthBody",
                                  {.response = kLengthCut, .close_after = true}},
                      AfterHeader{"ReadFailsInChunkedBody",
                                  {.response = kChunkedCut, .fail_at = 3}},
                      AfterHeader{"EngineClosesInChunkedBody",
                                  {.response = kChunkedCut, .close_after = true}}),
    [](const auto& info) { return std::string(info.param.name); });

// A client connection that fails while the body comes in ends without an answer (a reset
// peer) or with one that cannot be written either; no engine is asked.
struct ClientFailure {
  const char* name;
  boost::system::error_code error;
};

class ClientFailsMidBody : public ::testing::TestWithParam<ClientFailure> {};

TEST_P(ClientFailsMidBody, ClosesWithoutAskingAnEngine) {
  SessionHarness h({kAnswers});
  beast::test::fail_count fail(2, GetParam().error);  // the read after the header's
  auto client = h.connect(&fail);
  std::string request = completion_request(std::string(100, 'x'));
  client.send(request.substr(0, request.size() - 50));
  h.settle();

  EXPECT_EQ(client.received(), "");
  EXPECT_TRUE(client.closed());
  EXPECT_TRUE(h.engines().connections().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, ClientFailsMidBody,
    ::testing::Values(ClientFailure{"Reset", asio::error::connection_reset},
                      ClientFailure{"OtherError", beast::test::error::test_failure}),
    [](const auto& info) { return std::string(info.param.name); });

// The second request is sent after the first response: the read that watched the client
// during the relay reads it (nothing of it had come when the relay ended). A connection that
// then ends between requests ends no request.
TEST(ProxySession, TwoRequestsOnOneKeepAliveConnection) {
  SessionHarness h({{.response = engine_ok(R"({"n":1})")}, {.response = engine_ok(R"({"n":2})")}});
  auto client = send_request(h);
  client.send(completion_request());
  h.settle();

  std::string got = client.received();
  EXPECT_EQ(response_count(got), 2u) << got;
  EXPECT_LT(got.find(R"({"n":1})"), got.find(R"({"n":2})")) << got;
  EXPECT_FALSE(client.closed());
  ASSERT_EQ(h.records().size(), 2u);
  EXPECT_EQ(h.records()[0].request, 1u);
  EXPECT_EQ(h.records()[1].request, 2u);
  EXPECT_EQ(h.records()[1].status, 200);
  client.hang_up();
  h.settle();
  EXPECT_TRUE(client.closed());
  EXPECT_EQ(h.records().size(), 2u);
}

// How a client's stream ends: a FIN, or a TLS client's FIN without close_notify (what most
// TLS clients do when they close a keep-alive connection).
struct ClientEnd {
  const char* name;
  boost::system::error_code reads_as;
};

class ClientLeaves : public ::testing::TestWithParam<ClientEnd> {};

TEST_P(ClientLeaves, BetweenRequestsEndingNoRequest) {
  SessionHarness h({{.response = engine_ok(R"({"n":1})")}});
  auto client = send_request(h);
  std::string answered = client.received();
  expect_one_response(answered, 200);
  client.hang_up(GetParam().reads_as);
  h.settle();
  EXPECT_TRUE(client.closed());
  EXPECT_EQ(client.received(), answered) << "an answer to no request";
  EXPECT_EQ(h.records().size(), 1u);
}

TEST_P(ClientLeaves, InTheMiddleOfAHeaderUnanswered) {
  SessionHarness h({kAnswers});
  auto client = h.connect();
  client.send("POST /v1/completions HTTP/1.1\r\nHost: router\r\n");
  h.settle();
  client.hang_up(GetParam().reads_as);
  h.settle();
  EXPECT_TRUE(client.closed());
  EXPECT_EQ(client.received(), "");
  EXPECT_TRUE(h.records().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Ends, ClientLeaves,
    ::testing::Values(ClientEnd{"Fin", asio::error::eof},
                      ClientEnd{"TlsWithoutCloseNotify", asio::ssl::error::stream_truncated}),
    [](const auto& info) { return std::string(info.param.name); });

// The second request arrives while the first is relayed: the watch read keeps its bytes.
TEST(ProxySession, PipelinedRequestWaitsForTheFirstResponse) {
  SessionHarness h({{.response = engine_ok(R"({"n":1})")}, {.response = engine_ok(R"({"n":2})")}});
  auto client = h.connect();
  client.send(completion_request() + completion_request());
  h.settle();

  std::string got = client.received();
  EXPECT_EQ(response_count(got), 2u) << got;
  EXPECT_LT(got.find(R"({"n":1})"), got.find(R"({"n":2})")) << got;
  EXPECT_EQ(h.records().size(), 2u);
}

// A 1xx is not the answer: the client gets the final response only; a 101 is refused.
struct Interim {
  const char* name;
  std::string engine;
  int status;
};

class InterimResponse : public ::testing::TestWithParam<Interim> {};

TEST_P(InterimResponse, IsNotPassedOn) {
  SessionHarness h({{.response = GetParam().engine}});
  auto client = send_request(h);

  expect_one_response(client.received(), GetParam().status);
  ASSERT_EQ(h.records().size(), 1u);
  EXPECT_EQ(h.records()[0].status, GetParam().status);
}

INSTANTIATE_TEST_SUITE_P(
    Table, InterimResponse,
    ::testing::Values(
        Interim{"EarlyHints", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + engine_ok(), 200},
        Interim{"Continue", "HTTP/1.1 100 Continue\r\n\r\n" + engine_ok(), 200},
        Interim{"SwitchingProtocols",
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
                502}),
    [](const auto& info) { return std::string(info.param.name); });

// A header over maxHeaderBytes: 431, Connection: close, then what the client still sends is
// dropped until it closes (linger), and no engine is asked.
TEST(ProxySession, OversizedHeaderIsAnswered431AndTheConnectionEnds) {
  Limits limits;
  limits.max_header_bytes = 1024;
  SessionHarness h({kAnswers}, limits);
  auto client = h.connect();
  client.send("GET /v1/models HTTP/1.1\r\nHost: router\r\nX-Big: " + std::string(2000, 'a') +
              "\r\n\r\n");
  h.settle();

  std::string got = client.received();
  EXPECT_EQ(got.rfind("HTTP/1.1 431 ", 0), 0u) << got;
  EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
  EXPECT_EQ(response_count(got), 1u);
  EXPECT_TRUE(h.engines().connections().empty());
  EXPECT_FALSE(client.closed());  // lingering
  client.hang_up();
  h.settle();
  EXPECT_TRUE(client.closed());
}

// The client goes away while the engine has not answered: the relay is cancelled, the
// request ends as 499 and nothing is written.
TEST(ProxySession, ClientLeavingCancelsTheRelay) {
  SessionHarness h({{.response = ""}});
  auto client = send_request(h);
  EXPECT_TRUE(h.records().empty());  // the engine has not answered yet

  client.hang_up();
  h.settle();
  EXPECT_TRUE(client.closed());
  EXPECT_EQ(client.received(), "");
  ASSERT_EQ(h.records().size(), 1u);
  EXPECT_EQ(h.records()[0].status, 499);
}

// Draining (as Worker does on shutdown) closes an idle keep-alive connection at once and a
// busy one once its response is out, which says Connection: close.
TEST(ProxySession, DrainWaitsForTheResponseInProgress) {
  SessionHarness h({{.response = engine_ok()}, {.response = ""}});
  auto idle = send_request(h);  // answered: now an idle keep-alive connection
  expect_one_response(idle.received(), 200);
  auto busy = send_request(h);
  ASSERT_EQ(h.engines().connections().size(), 2u);

  h.worker().draining = true;
  for (auto* connection : h.worker().connections) connection->drain();
  h.settle();
  EXPECT_TRUE(idle.closed());
  EXPECT_FALSE(busy.closed());

  std::string answer = engine_ok();
  asio::write(h.engines().connections()[1]->engine, asio::buffer(answer));
  h.settle();
  expect_one_response(busy.received(), 200);
  EXPECT_NE(busy.received().find("Connection: close\r\n"), std::string::npos) << busy.received();
  EXPECT_TRUE(busy.closed());
}

// A connection that has not sent its first request when the drain starts (a router reload
// under load accepts some in that state) was opened to send one: it is answered, then closed.
// Closing it would fail a request that the client does not retry.
TEST(ProxySession, DrainAnswersAConnectionWhoseFirstRequestIsStillOnItsWay) {
  SessionHarness h({{.response = engine_ok()}});
  auto fresh = h.connect();
  h.settle();

  h.worker().draining = true;
  for (auto* connection : h.worker().connections) connection->drain();
  h.settle();
  EXPECT_FALSE(fresh.closed());

  fresh.send(completion_request());
  h.settle();
  expect_one_response(fresh.received(), 200);
  EXPECT_NE(fresh.received().find("Connection: close\r\n"), std::string::npos) << fresh.received();
  EXPECT_TRUE(fresh.closed());
}

}  // namespace
}  // namespace duet::router::test
