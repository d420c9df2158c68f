#include "duet/common/address.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <system_error>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <charconv>
#include <stdexcept>

namespace duet {

namespace {

bool strip_prefix(std::string_view& text, std::string_view prefix) {
  if (!text.starts_with(prefix)) return false;
  text.remove_prefix(prefix.size());
  return true;
}

Address parse_host_port(std::string_view original, std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    throw std::invalid_argument("address \"" + std::string(original) + "\": expected HOST:PORT");
  Address a;
  a.host = std::string(text.substr(0, colon));
  if (a.host.size() > 1 && a.host.front() == '[' && a.host.back() == ']')
    a.host = a.host.substr(1, a.host.size() - 2);
  auto port_text = text.substr(colon + 1);
  while (!port_text.empty() && port_text.back() == '/') port_text.remove_suffix(1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    throw std::invalid_argument("address \"" + std::string(original) + "\": bad port");
  if (a.host.empty()) a.host = "0.0.0.0";
  a.port = static_cast<uint16_t>(port);
  return a;
}

}  // namespace

Address Address::parse(std::string_view text) {
  std::string_view rest = text;
  if (strip_prefix(rest, "unix:")) {
    if (rest.empty()) throw std::invalid_argument("address \"unix:\": missing socket path");
    Address a;
    a.kind = Kind::unix_socket;
    a.path = std::string(rest);
    return a;
  }
  if (strip_prefix(rest, "https://")) {
    Address a = parse_host_port(text, rest);
    a.tls = true;
    return a;
  }
  strip_prefix(rest, "tcp://") || strip_prefix(rest, "http://");
  return parse_host_port(text, rest);
}

boost::asio::generic::stream_protocol::endpoint Address::endpoint() const {
  if (kind == Kind::unix_socket) return boost::asio::local::stream_protocol::endpoint(path);
  auto ip = boost::asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host);
  return boost::asio::ip::tcp::endpoint(ip, port);
}

bool Address::is_loopback() const {
  return kind == Kind::tcp && (host == "localhost" || host.starts_with("127.") || host == "::1");
}

std::string host_port(const boost::asio::ip::tcp::endpoint& ep) {
  auto host = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(ep.port());
}

std::string Address::host_header() const {
  return kind == Kind::unix_socket ? "localhost" : host + ":" + std::to_string(port);
}

std::string Address::to_string() const {
  if (kind == Kind::unix_socket) return "unix:" + path;
  return (tls ? "https://" : "") + host + ":" + std::to_string(port);
}

uint16_t port_of(const boost::asio::generic::stream_protocol::endpoint& ep) {
  const auto* sa = ep.data();
  if (sa->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port);
  if (sa->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
  return 0;
}

int inherited_socket_family(int fd) {
  sockaddr_storage address{};
  socklen_t size = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    std::string what = "inherited socket ";
    throw std::system_error(errno, std::generic_category(), what.append(std::to_string(fd)));
  }
  return address.ss_family;
}

}  // namespace duet
