// UpstreamRelay alone, in memory: the outcome it reports for what the engines do, which the
// session turns into the client's answer (proxy_session_test.cc) and the request record.
#include <gtest/gtest.h>

#include <optional>

#include "request_from_wire.h"
#include "router/request_body.h"
#include "session_harness.h"

namespace duet::router::test {
namespace {

struct Expected {
  int status;
  bool response_started;
  bool client_reusable;
  unsigned attempts;
  uint64_t bytes;
};

struct RelayCase {
  const char* name;
  std::vector<EngineScript> engines;
  Expected expected;
};

class Relay : public ::testing::TestWithParam<RelayCase> {};

// Relays one POST to the route `chat` and returns how it ended, with what the client got.
std::optional<RelayOutcome> relay(SessionHarness& h, ClientConnection client) {
  ProxyRequest request = test::request_from_wire(
      "POST /v1/completions HTTP/1.1\r\nContent-Length: 13\r\n\r\n{\"model\":\"m\"}");
  RequestBody body(request.body());
  const Route& route = h.worker().table->routes().at(0);
  Decision decision = decide(route, body, {});
  static const Peer peer{"192.0.2.7", "192.0.2.7:40000"};  // the relay keeps a reference
  std::optional<RelayOutcome> outcome;
  std::make_shared<TestRelay>(client, h.worker(), h.worker().table, decision,
                              std::move(request), peer,
                              [&outcome](RelayOutcome o) { outcome = std::move(o); })
      ->start();
  h.settle();
  return outcome;
}

TEST_P(Relay, ReportsTheOutcome) {
  SessionHarness h(GetParam().engines);
  ClientConnection client(h.io());
  auto outcome = relay(h, client);

  ASSERT_TRUE(outcome) << "done never ran";
  const Expected& want = GetParam().expected;
  EXPECT_EQ(outcome->status, want.status);
  EXPECT_EQ(outcome->response_started, want.response_started);
  EXPECT_EQ(outcome->client_reusable, want.client_reusable);
  EXPECT_EQ(outcome->attempts, want.attempts);
  EXPECT_EQ(outcome->bytes, want.bytes);
  // An error is reported for every response that did not reach the client whole.
  EXPECT_EQ(outcome->error.empty(), want.response_started && want.client_reusable)
      << outcome->error;
  // The relay writes to the client only once the engine's header is in.
  EXPECT_EQ(client.received().empty(), !want.response_started) << client.received();
  client.close();
  h.settle();
}

const std::string kOk = engine_ok();  // 11 body bytes

INSTANTIATE_TEST_SUITE_P(
    Table, Relay,
    ::testing::Values(
        RelayCase{"Answered", {{.response = kOk}}, {200, true, true, 1, 11}},
        RelayCase{"EngineAsksToClose",
                  {{.response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"}},
                  {200, true, true, 1, 2}},
        // Framed for the client (chunked), so its connection goes on.
        RelayCase{"BodyUntilClose",
                  {{.response = "HTTP/1.0 200 OK\r\n\r\nsome bytes", .close_after = true}},
                  {200, true, true, 1, 10}},
        RelayCase{"SecondAttemptAnswers", {{.refuse = true}, {.response = kOk}}, {200, true, true, 2, 11}},
        RelayCase{"HeaderNeverComes", {{.fail_at = 2}, {.fail_at = 2}}, {502, false, true, 2, 0}},
        RelayCase{"NoEngineAccepts", {{.refuse = true}, {.refuse = true}}, {502, false, true, 2, 0}},
        RelayCase{"BodyCut",
                  {{.response = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", .fail_at = 3}},
                  {200, true, false, 1, 3}},
        RelayCase{"StatusUnder100", {{.response = "HTTP/1.1 042 Odd\r\n\r\n"}, {.response = kOk}},
                  {200, true, true, 2, 11}},
        RelayCase{"ServerError",
                  {{.response = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"}},
                  {500, true, true, 1, 0}}),
    [](const auto& info) { return std::string(info.param.name); });

// Pieces of a body that come in separate reads reach the client in order, whole.
TEST(Relay, PassesOnABodyThatComesInPieces) {
  SessionHarness h({{.response = engine_ok(std::string(300, 'x')), .read_size = 7}});
  ClientConnection client(h.io());
  auto outcome = relay(h, client);

  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->status, 200);
  EXPECT_EQ(outcome->bytes, 300u);
  std::string got = client.received();
  EXPECT_EQ(got.substr(got.size() - 300), std::string(300, 'x')) << got;
  client.close();
  h.settle();
}

}  // namespace
}  // namespace duet::router::test
