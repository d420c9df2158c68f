#pragma once
// Listen and connect addresses as users write them: `unix:/run/duet/duetd.sock`,
// `tcp://127.0.0.1:7070`, `http://127.0.0.1:7070`, `127.0.0.1:7070`, or `https://HOST:PORT`
// for a TLS connection.

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace duet {

struct Address {
  enum class Kind { tcp, unix_socket };
  Kind kind = Kind::tcp;
  std::string host;  // tcp only: a numeric address or "localhost"
  uint16_t port = 0;
  std::string path;  // unix only
  bool tls = false;  // https://

  // Throws std::invalid_argument naming what is wrong with `text`.
  static Address parse(std::string_view text);

  boost::asio::generic::stream_protocol::endpoint endpoint() const;
  // A tcp address on loopback (127.0.0.0/8, ::1, localhost): nothing beyond this host reaches it.
  bool is_loopback() const;
  // Value for the HTTP Host header.
  std::string host_header() const;
  // As parse() reads it back: `unix:PATH`, `HOST:PORT` or `https://HOST:PORT`.
  std::string to_string() const;
};

// `1.2.3.4:80` or `[::1]:80`, as a URL or a Host header writes it.
std::string host_port(const boost::asio::ip::tcp::endpoint& ep);

// The TCP port of a bound generic endpoint, 0 for unix sockets.
uint16_t port_of(const boost::asio::generic::stream_protocol::endpoint& ep);

// The address family (AF_INET, AF_INET6, AF_UNIX) of a socket handed over by another
// process (a reload's predecessor). Throws std::system_error naming the descriptor.
int inherited_socket_family(int fd);

}  // namespace duet
