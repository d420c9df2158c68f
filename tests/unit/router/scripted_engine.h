#pragma once
// For tests of the real duet-router binary at the byte level: an engine (in the test's
// process) that answers each request target with scripted bytes and records what it got,
// and a raw client that writes any bytes and parses what comes back.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace duet::router::test {

// What the engine answers to one request target.
struct Script {
  std::vector<std::string> pieces;   // written one write each, in order
  bool close_after = false;          // then closes the connection
  bool silent = false;               // answers nothing and keeps the connection open
  std::chrono::milliseconds gap{0};  // between pieces: an engine that thinks between them
};

// A request as the engine received it.
struct Received {
  std::string target;
  boost::beast::http::fields fields;
  std::string body;
};

// Answers one request on `socket` by itself (any bytes, any pace); returns whether the
// connection carries the next request. An exception (the router went away) ends it too.
using Responder = std::function<boost::asio::awaitable<bool>(boost::asio::ip::tcp::socket& socket,
                                                             const Received& request)>;

// An engine that answers each request with the bytes scripted for its target (404 for a
// target without a script), or through a Responder, on a thread of its own.
class ScriptedEngine {
 public:
  explicit ScriptedEngine(std::map<std::string, Script> scripts);
  explicit ScriptedEngine(Responder responder);
  ~ScriptedEngine();

  std::string endpoint() const;  // 127.0.0.1:PORT
  // Requests and connections so far, the router's scrapes of /metrics left out.
  std::vector<Received> received() const;
  std::size_t connections() const { return connections_; }
  std::size_t scrapes() const { return scrapes_; }  // GET /metrics
  // Connections whose first request was GET /metrics (the router's scrape connections).
  std::size_t scrape_connections() const { return scrape_connections_; }

 private:
  ScriptedEngine(std::map<std::string, Script> scripts, Responder responder);
  boost::asio::awaitable<void> accept();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

  std::map<std::string, Script> scripts_;
  Responder responder_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<boost::asio::ip::tcp::socket> held_;
  mutable std::mutex mutex_;
  std::vector<Received> received_;
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> scrapes_{0};
  std::atomic<std::size_t> scrape_connections_{0};
  std::thread thread_;
};

// A client connection that writes raw requests and parses what comes back. A read waits
// 10 s at most: a router that never answers fails the test instead of hanging it.
class RawClient {
 public:
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  explicit RawClient(uint16_t port);

  Response exchange(const std::string& method, const std::string& target, int version = 11);
  // A request with a 2-byte JSON body and `extra_fields` (each ending in CRLF).
  static std::string request(const std::string& method, const std::string& target, int version = 11,
                             const std::string& extra_fields = {});
  void write(const std::string& bytes);
  // Writes `bytes` as long as the router takes them, up to `total` bytes in all; returns
  // how many it took before the connection failed.
  std::size_t write_repeatedly(const std::string& bytes, std::size_t total);
  Response read(bool head = false);
  // The next response's header only (an interim 100 Continue).
  boost::beast::http::response<boost::beast::http::empty_body> read_interim();
  // Whether the router closed the connection (EOF or reset on the next read).
  bool closed();

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace duet::router::test
