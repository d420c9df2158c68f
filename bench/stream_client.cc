// duet-bench-stream: the client of the streaming benchmark (scenario 5). On one keep-alive
// connection (plain or TLS) it sends --requests streaming POSTs one after another to
// duet-bench-stamp, directly or through a proxy, and measures per event:
//   chunk: arrival time − the upstream's CLOCK_MONOTONIC stamp in the event (upstream→client)
//   ttfb:  arrival of the first event − the moment the request was written
// Prints `ttfb_p50_us … chunk_p99_us … events … errors …` on one line; the driver subtracts
// the direct run's figures from each proxy's to get the time the proxy adds.
// Usage: duet-bench-stream --to HOST:PORT [--tls] [--path P] [--token JWT] [--requests N]
#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "bench_util.h"

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct Options {
  std::string host = "127.0.0.1";
  std::string port;
  bool tls = false;
  std::string path = "/v1/completions";
  std::string token;
  int requests = 200;
};

struct Samples {
  std::vector<double> ttfb_us;
  std::vector<double> chunk_us;
  int errors = 0;
};

using duet::bench::monotonic_ns;
using duet::bench::percentile;

// Records the delay of each complete SSE event that arrived at `now`.
void take_events(duet::bench::SseReader& sse, std::string_view piece, int64_t now, int64_t sent, bool& first,
                 Samples& out) {
  for (const auto& event : sse.feed(piece)) {
    int64_t stamp = duet::bench::event_stamp_ns(event);
    if (stamp < 0) continue;  // [DONE]
    out.chunk_us.push_back(static_cast<double>(now - stamp) / 1000);
    if (first) out.ttfb_us.push_back(static_cast<double>(now - sent) / 1000);
    first = false;
  }
}

template <class Stream>
void one_request(Stream& stream, boost::beast::flat_buffer& buffer, const Options& o,
                 Samples& out) {
  bhttp::request<bhttp::string_body> request(bhttp::verb::post, o.path, 11);
  request.set(bhttp::field::host, o.host);
  request.set(bhttp::field::content_type, "application/json");
  if (!o.token.empty()) request.set(bhttp::field::authorization, "Bearer " + o.token);
  request.body() = R"({"model":"bench","prompt":"stream me","max_tokens":20,"stream":true})";
  request.prepare_payload();

  bhttp::response_parser<bhttp::string_body> parser;
  duet::bench::SseReader sse;
  bool first = true;
  int64_t now = 0;
  int64_t sent = monotonic_ns();
  auto on_body = [&](uint64_t, std::string_view data, boost::system::error_code&) {
    take_events(sse, data, now, sent, first, out);
    return data.size();
  };
  parser.on_chunk_body(on_body);  // Beast keeps a reference
  bhttp::write(stream, request);
  while (!parser.is_done()) {
    // The events a read delivers are timed at its return; read_some parses after reading.
    auto n = stream.read_some(buffer.prepare(4096));
    now = monotonic_ns();
    buffer.commit(n);
    while (buffer.size() > 0 && !parser.is_done()) {
      boost::system::error_code ec;
      auto used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec == bhttp::error::need_more) break;
      if (ec) throw boost::system::system_error(ec);
    }
  }
  if (parser.get().result_int() != 200 || first) ++out.errors;
}

template <class Stream>
Samples run(Stream& stream, const Options& o) {
  Samples out;
  boost::beast::flat_buffer buffer;
  for (int i = 0; i < o.requests; ++i) one_request(stream, buffer, o, out);
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    auto value = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (flag == "--tls") {
      o.tls = true;
    } else if (flag == "--to") {
      std::string to = value();
      o.host = to.substr(0, to.rfind(':'));
      o.port = to.substr(to.rfind(':') + 1);
    } else if (flag == "--path") {
      o.path = value();
    } else if (flag == "--token") {
      o.token = value();
    } else if (flag == "--requests") {
      o.requests = std::stoi(value());
    } else {
      throw std::invalid_argument("unknown flag " + flag);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) try {
  Options o = parse(argc, argv);
  asio::io_context io;
  auto endpoints = tcp::resolver(io).resolve(o.host, o.port);
  Samples s;
  if (o.tls) {
    asio::ssl::context ctx(asio::ssl::context::tls_client);  // the bench's own self-signed cert
    asio::ssl::stream<tcp::socket> stream(io, ctx);
    asio::connect(stream.next_layer(), endpoints);
    stream.next_layer().set_option(tcp::no_delay(true));
    stream.handshake(asio::ssl::stream_base::client);
    s = run(stream, o);
  } else {
    tcp::socket stream(io);
    asio::connect(stream, endpoints);
    stream.set_option(tcp::no_delay(true));
    s = run(stream, o);
  }
  std::printf("ttfb_p50_us %.1f ttfb_p99_us %.1f chunk_p50_us %.1f chunk_p99_us %.1f events %zu errors %d\n",
              percentile(s.ttfb_us, 0.5), percentile(s.ttfb_us, 0.99), percentile(s.chunk_us, 0.5),
              percentile(s.chunk_us, 0.99), s.chunk_us.size(), s.errors);
} catch (const std::exception& e) {
  std::cerr << "duet-bench-stream: " << e.what() << "\n";
  return 1;
}
