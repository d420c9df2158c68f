#pragma once
// A connection that is TLS or plain, decided before its first byte: one stream type for the
// HTTP server's and client's sessions, so that each is written once for both. Beast's
// algorithms see an ordinary AsyncStream; each operation goes to the TLS layer or straight
// to the socket.

#include <boost/asio/async_result.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <optional>

namespace duet::http {

class MaybeTlsStream {
 public:
  using Socket = boost::asio::generic::stream_protocol::socket;
  using executor_type = Socket::executor_type;
  using error_code = boost::system::error_code;

  explicit MaybeTlsStream(Socket socket) : socket_(std::move(socket)) {}
  MaybeTlsStream(const MaybeTlsStream&) = delete;  // tls_ refers to socket_
  MaybeTlsStream& operator=(const MaybeTlsStream&) = delete;

  // Makes the stream TLS. Call before any I/O; the context must outlive the stream.
  void use_tls(boost::asio::ssl::context& context) { tls_.emplace(socket_, context); }
  bool is_tls() const { return tls_.has_value(); }
  boost::asio::ssl::stream<Socket&>& tls() { return *tls_; }
  Socket& socket() { return socket_; }
  executor_type get_executor() { return socket_.get_executor(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          if (tls_)
            tls_->async_read_some(b, std::move(handler));
          else
            socket_.async_read_some(b, std::move(handler));
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (tls_)
            tls_->async_write_some(b, std::move(handler));
          else
            socket_.async_write_some(b, std::move(handler));
        },
        token, buffers);
  }

 private:
  Socket socket_;
  std::optional<boost::asio::ssl::stream<Socket&>> tls_;
};

}  // namespace duet::http
