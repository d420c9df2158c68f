#pragma once
// One kept connection to an engine over which the scraper (engine_scraper.h) reads its
// /metrics, as Prometheus keeps its scrape connections. A new connection for every scrape
// cost the control thread a dozen syscalls a scrape (socket, connect, its poll and error
// check, two epoll_ctl, close) and a TCP handshake and teardown: at 20 scrapes a second per
// engine that was most of the router's CPU while idle (bench/README.md, "Scrapes on kept
// connections").
//
// Bounded as before: the whole exchange (connect, request, response) within its timeout, the
// head within Beast's 8 KiB and the body within kMaxMetricsBytes. Anything else (an error, a
// timeout, too much, an answer that does not say the connection stays open) closes the
// connection; the next fetch opens a new one. A kept connection the engine closed while idle
// fails before any byte of the answer: that fetch is tried once more on a new connection.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace duet::router {

class MetricsConnection : public std::enable_shared_from_this<MetricsConnection> {
 public:
  // The body of a 200 answer, or nothing: failed, timed out, too big, another status.
  using Done = std::function<void(std::optional<std::string> body)>;

  MetricsConnection(boost::asio::any_io_executor ex, boost::asio::ip::tcp::endpoint engine);

  const boost::asio::ip::tcp::endpoint& engine() const { return engine_; }
  bool busy() const { return static_cast<bool>(done_); }
  // Connections opened so far (for tests and the bench: one while the engine keeps it).
  uint64_t opened() const { return opened_; }

  // One GET /metrics, at most one at a time; `done` runs once, on the executor, unless
  // close() comes first.
  void fetch(std::chrono::milliseconds timeout, Done done);
  // Closes the connection; a fetch in progress ends without calling its `done`.
  void close();

 private:
  void connect();
  void send();
  void finish(boost::system::error_code ec);
  void reset();

  boost::beast::tcp_stream stream_;
  boost::asio::ip::tcp::endpoint engine_;
  boost::beast::http::request<boost::beast::http::empty_body> request_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
  Done done_;
  bool open_ = false;
  bool reused_ = false;  // this fetch went out on a connection an earlier one left open
  uint64_t generation_ = 0;  // one per fetch: a handler of an earlier one finds it over
  std::chrono::steady_clock::time_point deadline_;
  uint64_t opened_ = 0;
};

}  // namespace duet::router
