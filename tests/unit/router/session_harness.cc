#include "session_harness.h"

#include "watch_objects.h"

namespace duet::router::test {

SessionHarness::SessionHarness(std::vector<EngineScript> engines, Limits limits)
    : limits_(limits),
      budget_(limits.max_in_flight_requests, limits.max_buffered_body_bytes),
      engines_(std::move(engines)),
      worker_(io_, 0,
              WorkerShared{limits_, observer_, stats_, nullptr, open_connections_, budget_,
                           trusted_proxies_, auth_failures_, prefix_index_}) {
  state_.apply(snapshot(1, json::array({backend_route("chat", "chat")}),
                        json::array({deployment("chat")}),
                        json::array({engine("chat-0", "chat", "127.0.0.1:9000"),
                                     engine("chat-1", "chat", "127.0.0.1:9001")})));
  worker_.table = RoutingTable::build({&state_}, loads_);
  worker_.credentials = std::make_shared<Credentials>();
}

SessionHarness::~SessionHarness() {
  for (auto& connection : connections_) connection.close();
  settle();
}

ClientConnection SessionHarness::connect(beast::test::fail_count* fail) {
  ClientConnection connection(io_, fail);
  connections_.push_back(connection);
  std::make_shared<TestSession>(connection, worker_, Peer{"192.0.2.7", "192.0.2.7:40000"})
      ->start();
  return connection;
}

void SessionHarness::settle() {
  io_.restart();
  io_.poll();
}

std::string completion_request(std::string_view body) {
  return "POST /v1/completions HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

std::string engine_ok(std::string_view body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

std::size_t response_count(std::string_view bytes) {
  std::size_t count = 0;
  for (auto at = bytes.find("HTTP/1.1 "); at != std::string_view::npos;
       at = bytes.find("HTTP/1.1 ", at + 1))
    ++count;
  return count;
}

}  // namespace duet::router::test
