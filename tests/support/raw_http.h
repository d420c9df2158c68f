#pragma once
// A TCP client that writes exactly the bytes a test gives it (two requests in one write, a
// header whose body never comes) and reads responses against a deadline: for tests of how a
// server treats clients that do not behave.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>
#include <string_view>

namespace duet::test {

class RawHttpClient {
 public:
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  // Connects to 127.0.0.1:`port`. Throws boost::system::system_error when it cannot.
  explicit RawHttpClient(uint16_t port);

  void send(std::string_view bytes);
  // The next response, nullopt when none arrived whole within `timeout` (closed, reset, late).
  std::optional<Response> read(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Whether the server ended the connection (EOF or reset) within `timeout`.
  bool closed_within(std::chrono::milliseconds timeout);

 private:
  // Runs the io_context until `done` or the deadline; cancels what is left at the deadline.
  bool run_until(const bool& done, std::chrono::milliseconds timeout);

  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace duet::test
