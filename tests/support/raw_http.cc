#include "support/raw_http.h"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace duet::test {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

RawHttpClient::RawHttpClient(uint16_t port) : socket_(io_) {
  socket_.connect({asio::ip::make_address("127.0.0.1"), port});
}

void RawHttpClient::send(std::string_view bytes) { asio::write(socket_, asio::buffer(bytes)); }

bool RawHttpClient::run_until(const bool& done, std::chrono::milliseconds timeout) {
  io_.restart();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done && io_.run_one_until(deadline) > 0) {
  }
  if (done) return true;
  boost::system::error_code ignored;
  socket_.cancel(ignored);
  io_.restart();
  io_.run();  // the cancelled operation's handler
  return false;
}

std::optional<RawHttpClient::Response> RawHttpClient::read(std::chrono::milliseconds timeout) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  bool done = false;
  boost::system::error_code result;
  bhttp::async_read(socket_, buffer_, parser, [&](boost::system::error_code ec, std::size_t) {
    result = ec;
    done = true;
  });
  if (!run_until(done, timeout) || result) return std::nullopt;
  return parser.release();
}

bool RawHttpClient::closed_within(std::chrono::milliseconds timeout) {
  bool done = false;
  boost::system::error_code result;
  auto drain = std::make_shared<std::function<void()>>();
  *drain = [&] {
    socket_.async_read_some(buffer_.prepare(4096),
                            [&](boost::system::error_code ec, std::size_t n) {
                              buffer_.commit(n);
                              if (!ec) return (*drain)();  // bytes before the close: keep reading
                              result = ec;
                              done = true;
                            });
  };
  (*drain)();
  return run_until(done, timeout) && result != asio::error::operation_aborted;
}

}  // namespace duet::test
