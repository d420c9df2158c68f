#pragma once
// A client connection on a TLS listener: a TimedSocket whose reads, writes and handshake go
// through OpenSSL, which reads and writes the socket itself through a BIO of ours
// (tls_socket.cc), as nginx does. asio::ssl::stream, used before, passed every record through
// a BIO pair and a buffer of its own on each side (two more copies each way, an SSL_read
// that found nothing before each socket read, 68 KiB of buffers per connection), and drove
// each call through its own state machine on top of the socket's operation: 54,000
// user-space instructions a TLS request against 45,000 now (bench/README.md, "TLS").
//
// OpenSSL keeps its two record buffers (about 34 KiB) for the connection's life: letting
// them go whenever they empty (SSL_MODE_RELEASE_BUFFERS, nginx's choice) cost 3,700
// instructions a request in malloc and free (docs/decisions.md).

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>

#include "router/timed_socket.h"

namespace duet::router {

// The server side only: duet-router's engine connections are plain.
class TlsSocket : public TimedSocket {
 public:
  TlsSocket(TimedSocket socket, boost::asio::ssl::context& context)
      : TimedSocket(std::move(socket)) {
    start_tls(context.native_handle());
  }

  // As asio::ssl::stream's: ends as the handshake ends, or with OpenSSL's error (in Asio's
  // ssl category). The type is asio::ssl::stream's argument, kept for the same call: always
  // the server's.
  template <class Token>
  auto async_handshake(boost::asio::ssl::stream_base::handshake_type, Token&& token) {
    return start<void(boost::system::error_code)>(EdgeOp::Kind::handshake, nullptr, 0,
                                                  std::forward<Token>(token));
  }
};

}  // namespace duet::router
