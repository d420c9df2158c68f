// duet-bench-source: a node API that serves one fixed watch snapshot (docs/node-api.md), so
// the benchmark decides every route, deployment, canary weight and endpoint itself and
// starts the upstreams itself (pinned to cores, killable under load) instead of via duetd.
// Usage: duet-bench-source SOCKET SNAPSHOT.json
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "duet/common/file_text.h"
#include "duet/common/http_server.h"

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using duet::http::Exchange;

// Streams stay open; a BOOKMARK every 5 s tells the router the source is alive, as duetd's.
void keep_alive(asio::steady_timer& timer, std::vector<std::shared_ptr<Exchange>>& streams,
                uint64_t version) {
  timer.expires_after(std::chrono::seconds(5));
  timer.async_wait([&timer, &streams, version](boost::system::error_code ec) {
    if (ec) return;
    std::string line = nlohmann::json{{"type", "BOOKMARK"}, {"resourceVersion", version}}.dump();
    for (const auto& s : streams)
      if (!s->client_gone()) s->send(line + "\n");
    keep_alive(timer, streams, version);
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: duet-bench-source SOCKET SNAPSHOT.json\n";
    return 2;
  }
  auto text = duet::read_text_file(argv[2]);
  if (!text) {
    std::cerr << "duet-bench-source: cannot read " << argv[2] << "\n";
    return 1;
  }
  auto snapshot = nlohmann::json::parse(*text);
  snapshot["type"] = "SNAPSHOT";
  uint64_t version = snapshot.value("resourceVersion", uint64_t{1});
  std::string first_line = snapshot.dump() + "\n";

  asio::io_context io;  // one thread: the streams vector needs no lock
  std::vector<std::shared_ptr<Exchange>> streams;
  duet::http::Server server(io, [&](std::shared_ptr<Exchange> exchange) {
    auto target = exchange->request().target();
    // The router's traffic reports (once a second) are taken and dropped, as duetd would take them.
    if (target == "/apis/v1/traffic") return exchange->reply(bhttp::status::ok, "{\"accepted\": 0}\n");
    if (!target.starts_with("/apis/v1/watch"))
      return exchange->reply_error(404, "duet-bench-source serves only /apis/v1/watch");
    bhttp::response<bhttp::empty_body> header(bhttp::status::ok, 11);
    header.set(bhttp::field::content_type, "application/x-ndjson");
    exchange->begin_stream(std::move(header));
    exchange->send(first_line);
    streams.push_back(std::move(exchange));
  });
  server.listen(duet::Address::parse(std::string("unix:") + argv[1]));
  asio::steady_timer timer(io);
  keep_alive(timer, streams, version);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { io.stop(); });
  io.run();
}
