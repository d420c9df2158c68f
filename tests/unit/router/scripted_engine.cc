#include "scripted_engine.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <utility>

namespace duet::router::test {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
const Script kNotFound{{"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"}};
}  // namespace

ScriptedEngine::ScriptedEngine(std::map<std::string, Script> scripts)
    : ScriptedEngine(std::move(scripts), nullptr) {}

ScriptedEngine::ScriptedEngine(Responder responder) : ScriptedEngine({}, std::move(responder)) {}

ScriptedEngine::ScriptedEngine(std::map<std::string, Script> scripts, Responder responder)
    : scripts_(std::move(scripts)),
      responder_(std::move(responder)),
      acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
  asio::co_spawn(io_, accept(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

ScriptedEngine::~ScriptedEngine() {
  io_.stop();
  thread_.join();
}

std::string ScriptedEngine::endpoint() const {
  return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
}

std::vector<Received> ScriptedEngine::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

asio::awaitable<void> ScriptedEngine::accept() {
  for (;;) {
    tcp::socket socket = co_await acceptor_.async_accept(asio::use_awaitable);
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

// The router sends every request with a Content-Length (it never chunks a request body).
asio::awaitable<void> ScriptedEngine::serve(tcp::socket socket) {
  std::string in;
  bool counted = false;
  for (;;) {
    std::size_t head = co_await asio::async_read_until(socket, asio::dynamic_buffer(in), "\r\n\r\n",
                                                       asio::use_awaitable);
    bhttp::request_parser<bhttp::empty_body> parser;
    parser.skip(true);
    boost::system::error_code ec;
    parser.put(asio::buffer(in.data(), head), ec);
    std::size_t length = parser.content_length().value_or(0);
    if (in.size() < head + length)
      co_await asio::async_read(socket, asio::dynamic_buffer(in),
                                asio::transfer_exactly(head + length - in.size()),
                                asio::use_awaitable);
    Received request{std::string(parser.get().target()), parser.get().base(),
                     in.substr(head, length)};
    // The router reads every engine's /metrics on its own connections (engine_scraper.h):
    // answered as scripted, and counted apart from the requests and connections tests count.
    if (request.target == "/metrics") {
      if (!std::exchange(counted, true)) ++scrape_connections_;
      ++scrapes_;
    } else {
      if (!std::exchange(counted, true)) ++connections_;
      std::lock_guard lock(mutex_);
      received_.push_back(request);
    }
    in.erase(0, head + length);
    if (responder_) {
      if (!co_await responder_(socket, request)) co_return;
      continue;
    }
    const std::string& target = request.target;
    auto found = scripts_.find(target);
    const Script& script = found == scripts_.end() ? kNotFound : found->second;
    if (script.silent) {
      held_.push_back(std::move(socket));
      co_return;
    }
    for (std::size_t i = 0; i < script.pieces.size(); ++i) {
      if (i > 0 && script.gap.count() > 0) {
        asio::steady_timer timer(io_, script.gap);
        co_await timer.async_wait(asio::use_awaitable);
      }
      co_await asio::async_write(socket, asio::buffer(script.pieces[i]), asio::use_awaitable);
    }
    if (script.close_after) co_return;
  }
}

RawClient::RawClient(uint16_t port) : socket_(io_) {
  socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  timeval limit{10, 0};
  setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
}

RawClient::Response RawClient::exchange(const std::string& method, const std::string& target,
                                        int version) {
  write(request(method, target, version));
  return read(method == "HEAD");
}

std::string RawClient::request(const std::string& method, const std::string& target, int version,
                               const std::string& extra_fields) {
  return method + " " + target + " HTTP/1." + std::to_string(version % 10) +
         "\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n" + extra_fields +
         "\r\n{}";
}

void RawClient::write(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }

std::size_t RawClient::write_repeatedly(const std::string& bytes, std::size_t total) {
  std::size_t written = 0;
  boost::system::error_code ec;
  while (written < total && !ec) written += asio::write(socket_, asio::buffer(bytes), ec);
  return written;
}

RawClient::Response RawClient::read(bool head) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.skip(head);
  bhttp::read(socket_, buffer_, parser);
  return parser.release();
}

bhttp::response<bhttp::empty_body> RawClient::read_interim() {
  bhttp::response_parser<bhttp::empty_body> parser;
  bhttp::read_header(socket_, buffer_, parser);
  return parser.release();
}

bool RawClient::closed() {
  boost::system::error_code ec;
  Response ignored;
  bhttp::read(socket_, buffer_, ignored, ec);
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset;
}

}  // namespace duet::router::test
