// duet-bench-stamp: an upstream for the streaming benchmark (scenario 5). Every POST gets an
// SSE stream of --chunks events, --gap-us apart, the first at once; each event carries the
// CLOCK_MONOTONIC time at which it was handed to the socket, so a client on the same machine
// reads how long the chunk took to reach it (duet-bench-stream). GET /health answers 200.
// --max-connections raises the server's limit on open connections (1,024) for the
// streaming-scale scenario, where thousands of streams are open at once.
// Usage: duet-bench-stamp --port P [--chunks N] [--gap-us G] [--max-connections N]
#include <time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "duet/common/http_server.h"

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using duet::http::Exchange;

struct Options {
  uint16_t port = 0;
  int chunks = 20;
  int gap_us = 2000;
  int max_connections = 1024;
};

int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Sends event `i` now, then schedules the next one; the timer lives as long as the stream.
// Event i is due at the stream's start + i × gap, not gap after the previous one was sent:
// with thousands of streams, a late turn of the loop would otherwise move every stream it
// served onto the same instant for good, and their events would come in ever larger bursts.
void send_event(std::shared_ptr<Exchange> exchange, std::shared_ptr<asio::steady_timer> timer,
                const Options& options, int i) {
  if (exchange->client_gone()) return;
  if (i == options.chunks) {
    exchange->send("data: [DONE]\n\n");
    return exchange->finish();
  }
  exchange->send("data: {\"i\":" + std::to_string(i) + ",\"t\":" +
                 std::to_string(monotonic_ns()) + "}\n\n");
  timer->expires_at(timer->expiry() + std::chrono::microseconds(options.gap_us));
  timer->async_wait([exchange, timer, &options, i](boost::system::error_code ec) {
    if (!ec) send_event(exchange, timer, options, i + 1);
  });
}

void handle(const std::shared_ptr<Exchange>& exchange, const Options& options) {
  if (exchange->request().method() != bhttp::verb::post)
    return exchange->reply(bhttp::status::ok, "{}");  // /health and anything else
  bhttp::response<bhttp::empty_body> header(bhttp::status::ok, 11);
  header.set(bhttp::field::content_type, "text/event-stream");
  header.set(bhttp::field::cache_control, "no-cache");
  exchange->begin_stream(std::move(header));
  auto timer = std::make_shared<asio::steady_timer>(exchange->executor());
  timer->expires_at(asio::steady_timer::clock_type::now());  // the stream's start
  send_event(exchange, std::move(timer), options, 0);
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    int value = std::stoi(argv[i + 1]);
    if (flag == "--port")
      options.port = static_cast<uint16_t>(value);
    else if (flag == "--chunks")
      options.chunks = value;
    else if (flag == "--gap-us")
      options.gap_us = value;
    else if (flag == "--max-connections")
      options.max_connections = value;
    else
      throw std::invalid_argument("unknown flag " + flag);
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  asio::io_context io(1);
  duet::http::ServerOptions server_options;
  server_options.max_connections = static_cast<std::size_t>(options.max_connections);
  duet::http::Server server(io, [&](std::shared_ptr<Exchange> e) { handle(e, options); },
                            server_options);
  server.listen(duet::Address::parse("127.0.0.1:" + std::to_string(options.port)));
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { io.stop(); });
  io.run();
}
