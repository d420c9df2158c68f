#pragma once
// One worker of the router in a test, without sockets or threads: a routing table with the
// route `chat` (prefix /v1/) to deployment `chat` and its two Ready engines, and sessions
// on in-memory client connections whose relays reach scripted engines (test_streams.h).

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "router/proxy_session.h"
#include "test_streams.h"

namespace duet::router::test {

using TestSession = ProxySession<ClientConnection, ScriptedUpstreams>;
using TestRelay = UpstreamRelay<ClientConnection, ScriptedUpstreams>;

// Keeps a copy of every request record.
class RecordingObserver : public RequestObserver {
 public:
  void on_request_done(const RequestRecord& record) override { records.push_back(record); }
  std::vector<RequestRecord> records;
};

class SessionHarness {
 public:
  explicit SessionHarness(std::vector<EngineScript> engines, Limits limits = {});
  // Closes what is still open and runs the handlers that follows, so nothing is left.
  ~SessionHarness();

  // A session on a new client connection, started; `fail` as for ClientConnection.
  ClientConnection connect(beast::test::fail_count* fail = nullptr);
  // Runs handlers until none is ready: every connection then waits on its peer.
  void settle();

  const std::vector<RequestRecord>& records() const { return observer_.records; }
  const ScriptedEngines& engines() const { return engines_; }
  WorkerContext& worker() { return worker_; }
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  Limits limits_;
  RecordingObserver observer_;
  RouterStats stats_{1};
  RequestBudget budget_;
  TrustedProxies trusted_proxies_;
  AuthFailureLimiter auth_failures_;
  PrefixIndex prefix_index_;
  std::atomic<std::size_t> open_connections_{0};
  SourceState state_;
  EndpointLoads loads_;
  ScriptedEngines engines_;
  WorkerContext worker_;
  std::vector<ClientConnection> connections_;
};

// What a client sends: a POST of `body` to /v1/completions, HTTP/1.1 keep-alive.
std::string completion_request(std::string_view body = R"({"model":"m","prompt":"hi"})");
// What an engine answers: 200 with a JSON body, by Content-Length.
std::string engine_ok(std::string_view body = R"({"ok":true})");
// How many responses `bytes` hold (status lines).
std::size_t response_count(std::string_view bytes);

}  // namespace duet::router::test
