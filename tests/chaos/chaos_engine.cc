#include "chaos_engine.h"

#include <sys/socket.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace duet::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string ok_head(std::size_t length) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(length) + "\r\n\r\n";
}

}  // namespace

ChaosEngine::ChaosEngine(bool well_behaved)
    : well_behaved_(well_behaved),
      engine_([this](tcp::socket& socket, const router::test::Received& request) {
        return respond(socket, request.body);
      }) {}

// Returns whether the connection carries on; errors (the router closing its side) end it
// through an exception, which is the engine seeing its peer go.
asio::awaitable<bool> ChaosEngine::respond(tcp::socket& socket, std::string body) {
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
      co_return false;
    case Misbehaviour::reset_before_header: {
      linger reset{1, 0};
      setsockopt(socket.native_handle(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      co_return false;
    }
    case Misbehaviour::bad_status_line:
      out = "HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n";
      co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
      co_return false;
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
      co_return true;
    }
    case Misbehaviour::body_cut_short:
      out = ok_head(body.size() + 100) + body;
      co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
      co_return false;
    case Misbehaviour::bytes_after_body:
      // What a confused engine writes: a stale answer right behind the real one. The
      // connection must not carry it to the next client.
      out = ok_head(body.size()) + body + ok_head(9) + "STOLEN!!!";
      break;
    case Misbehaviour::count:
      co_return false;
  }
  co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
  co_return true;
}

}  // namespace duet::test
