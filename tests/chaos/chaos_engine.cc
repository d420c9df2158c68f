#include "chaos_engine.h"

#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

namespace duet::test {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

const char* to_string(Misbehaviour m) {
  switch (m) {
    case Misbehaviour::none: return "none";
    case Misbehaviour::chunked: return "chunked";
    case Misbehaviour::early_hints: return "early_hints";
    case Misbehaviour::interim_continue: return "interim_continue";
    case Misbehaviour::close_before_header: return "close_before_header";
    case Misbehaviour::reset_before_header: return "reset_before_header";
    case Misbehaviour::bad_status_line: return "bad_status_line";
    case Misbehaviour::huge_header: return "huge_header";
    case Misbehaviour::trickle: return "trickle";
    case Misbehaviour::body_cut_short: return "body_cut_short";
    case Misbehaviour::bytes_after_body: return "bytes_after_body";
    case Misbehaviour::count: break;
  }
  return "?";
}

namespace {

std::string ok_head(std::size_t length) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(length) + "\r\n\r\n";
}

}  // namespace

ChaosEngine::ChaosEngine(bool well_behaved)
    : well_behaved_(well_behaved), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
  asio::co_spawn(io_, accept(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

ChaosEngine::~ChaosEngine() {
  io_.stop();
  thread_.join();
}

std::string ChaosEngine::endpoint() const {
  return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
}

asio::awaitable<void> ChaosEngine::accept() {
  for (;;) {
    tcp::socket socket = co_await acceptor_.async_accept(asio::use_awaitable);
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

// Errors (the router closing its side) end the coroutine through an exception, which
// co_spawn with `detached` drops: that is the engine seeing its peer go.
asio::awaitable<void> ChaosEngine::serve(tcp::socket socket) {
  std::string in;
  for (;;) {
    std::size_t head = co_await asio::async_read_until(socket, asio::dynamic_buffer(in),
                                                       "\r\n\r\n", asio::use_awaitable);
    bhttp::request_parser<bhttp::empty_body> parser;
    parser.skip(true);
    boost::system::error_code ec;
    parser.put(asio::buffer(in.data(), head), ec);
    std::size_t length = parser.content_length().value_or(0);
    if (in.size() < head + length)
      co_await asio::async_read(socket, asio::dynamic_buffer(in),
                                asio::transfer_exactly(head + length - in.size()),
                                asio::use_awaitable);
    std::string body = in.substr(head, length);
    in.erase(0, head + length);
    int n = requests_.fetch_add(1);
    auto how = well_behaved_ ? Misbehaviour::none
                             : static_cast<Misbehaviour>(n % static_cast<int>(Misbehaviour::count));
    std::string out;
    switch (how) {
      case Misbehaviour::none:
        out = ok_head(body.size()) + body;
        break;
      case Misbehaviour::chunked: {
        std::string head200 =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        co_await asio::async_write(socket, asio::buffer(head200), asio::use_awaitable);
        std::size_t half = body.size() / 2;
        for (auto part : {body.substr(0, half), body.substr(half)}) {
          char size[20];
          std::snprintf(size, sizeof size, "%zx\r\n", part.size());
          std::string chunk = size + part + "\r\n";
          co_await asio::async_write(socket, asio::buffer(chunk), asio::use_awaitable);
        }
        out = "0\r\n\r\n";
        break;
      }
      case Misbehaviour::early_hints:
        out = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
              ok_head(body.size()) + body;
        break;
      case Misbehaviour::interim_continue:
        out = "HTTP/1.1 100 Continue\r\n\r\n" + ok_head(body.size()) + body;
        break;
      case Misbehaviour::close_before_header:
        co_return;
      case Misbehaviour::reset_before_header: {
        linger reset{1, 0};
        setsockopt(socket.native_handle(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        co_return;
      }
      case Misbehaviour::bad_status_line:
        out = "HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n";
        co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
        co_return;
      case Misbehaviour::huge_header:
        out = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(100 * 1024, 'b') +
              "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        break;
      case Misbehaviour::trickle: {
        std::string all = ok_head(body.size()) + body;
        asio::steady_timer pause(socket.get_executor());
        for (char c : all) {
          co_await asio::async_write(socket, asio::buffer(&c, 1), asio::use_awaitable);
          pause.expires_after(std::chrono::microseconds(200));
          co_await pause.async_wait(asio::use_awaitable);
        }
        continue;
      }
      case Misbehaviour::body_cut_short:
        out = ok_head(body.size() + 100) + body;
        co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
        co_return;
      case Misbehaviour::bytes_after_body:
        // What a confused engine writes: a stale answer right behind the real one. The
        // connection must not carry it to the next client.
        out = ok_head(body.size()) + body + ok_head(9) + "STOLEN!!!";
        break;
      case Misbehaviour::count:
        co_return;
    }
    co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
  }
}

}  // namespace duet::test
