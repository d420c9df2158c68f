// duet-bench-floor: the least a plain HTTP/1.1 reverse proxy does for a request, as a
// yardstick for issue 21's throughput targets (bench/README.md, "What is left"). It is not a
// proxy to use: no routing, no auth, no header rewriting, no limits, no log, no timeouts,
// Content-Length bodies only, and it trusts its client and upstream. One thread, one
// edge-triggered epoll set, one keep-alive upstream connection per client connection, bytes
// forwarded unchanged. A read that returns less than it asked for is taken to have drained
// the socket (as nginx does), so a request costs four syscalls: read it, write it upstream,
// read the response, write it back.
// Usage: duet-bench-floor --port P --upstream-port U
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::size_t kBufferSize = 16 * 1024;

struct Connection;
// What an epoll event names: one side of a connection (or the listener: no connection).
struct Side {
  Connection* connection = nullptr;
  bool upstream = false;
};

struct Bytes {
  std::array<char, kBufferSize> data;
  std::size_t size = 0;
};

struct Connection {
  int client = -1;
  int upstream = -1;
  Side client_side{this, false};
  Side upstream_side{this, true};
  Bytes request, response;
};

// The length of the whole message (head and Content-Length body) at the start of `bytes`,
// or 0 while it is not all there.
std::size_t whole_message(const Bytes& bytes) {
  std::string_view text(bytes.data.data(), bytes.size);
  auto head_end = text.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return 0;
  std::size_t body = 0;
  constexpr std::string_view kLength = "content-length:";
  for (std::size_t at = 0; at < head_end;) {
    auto line_end = text.find("\r\n", at);
    auto line = text.substr(at, line_end - at);
    if (line.size() > kLength.size() &&
        strncasecmp(line.data(), kLength.data(), kLength.size()) == 0)
      body = std::strtoul(line.data() + kLength.size(), nullptr, 10);  // stops at the CR
    at = line_end + 2;
  }
  std::size_t whole = head_end + 4 + body;
  return whole <= bytes.size ? whole : 0;
}

class FloorProxy {
 public:
  FloorProxy(int port, int upstream_port) : epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address = loopback(port);
    if (bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(listener_, 1024) != 0)
      throw std::runtime_error(std::string("listen: ") + std::strerror(errno));
    upstream_ = loopback(upstream_port);
    epoll_event event{EPOLLIN, {.ptr = &listener_side_}};
    epoll_ctl(epoll_, EPOLL_CTL_ADD, listener_, &event);
  }

  [[noreturn]] void run() {
    std::array<epoll_event, 256> events;
    for (;;) {
      int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), -1);
      for (int i = 0; i < n; ++i) {
        auto* side = static_cast<Side*>(events[static_cast<std::size_t>(i)].data.ptr);
        if (!side->connection) {
          accept_all();
        } else if (side->connection->client >= 0) {  // not closed earlier in this batch
          side->upstream ? on_response_bytes(*side->connection)
                         : on_request_bytes(*side->connection);
        }
      }
      closed_.clear();  // events of this batch may have named them
    }
  }

 private:
  static sockaddr_in loopback(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
  }

  void watch(int fd, Side& side) {
    epoll_event event{EPOLLIN | EPOLLET | EPOLLRDHUP, {.ptr = &side}};
    epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event);
  }

  void accept_all() {
    int fd;
    while ((fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto connection = std::make_unique<Connection>();
      connection->client = fd;
      watch(fd, connection->client_side);
      connection.release();  // owned by its sockets until close()
    }
  }

  void close(Connection& c) {
    ::close(c.client);
    if (c.upstream >= 0) ::close(c.upstream);
    c.client = c.upstream = -1;
    closed_.emplace_back(&c);
  }

  // Reads what the socket has; false when it ended or failed.
  static bool read_available(int fd, Bytes& into) {
    while (into.size < into.data.size()) {
      ssize_t n = recv(fd, into.data.data() + into.size, into.data.size() - into.size, 0);
      if (n > 0) {
        into.size += static_cast<std::size_t>(n);
        if (into.size < into.data.size()) return true;  // less than asked: drained
        continue;
      }
      return n < 0 && errno == EAGAIN;
    }
    return false;  // a message larger than the buffer: not for this tool
  }

  bool open_upstream(Connection& c) {
    c.upstream = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // blocking connect: loopback
    if (connect(c.upstream, reinterpret_cast<const sockaddr*>(&upstream_), sizeof upstream_) != 0)
      return false;
    int one = 1;
    setsockopt(c.upstream, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c.upstream, F_SETFL, O_NONBLOCK);
    watch(c.upstream, c.upstream_side);
    return true;
  }

  // Sends the `whole` message at the start of `from` to `to` (loopback takes it in one send).
  static bool forward(Bytes& from, std::size_t whole, int to) {
    if (send(to, from.data.data(), whole, MSG_NOSIGNAL) != static_cast<ssize_t>(whole))
      return false;
    std::memmove(from.data.data(), from.data.data() + whole, from.size - whole);
    from.size -= whole;
    return true;
  }

  void on_request_bytes(Connection& c) {
    if (!read_available(c.client, c.request)) return close(c);
    std::size_t whole = whole_message(c.request);
    if (whole == 0) return;
    if ((c.upstream < 0 && !open_upstream(c)) || !forward(c.request, whole, c.upstream)) close(c);
  }

  void on_response_bytes(Connection& c) {
    if (!read_available(c.upstream, c.response)) return close(c);
    std::size_t whole = whole_message(c.response);
    if (whole != 0 && !forward(c.response, whole, c.client)) close(c);
  }

  int epoll_;
  int listener_ = -1;
  Side listener_side_;
  sockaddr_in upstream_{};
  std::vector<std::unique_ptr<Connection>> closed_;
};

}  // namespace

int main(int argc, char** argv) {
  int port = 0, upstream_port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--port") port = std::atoi(argv[i + 1]);
    if (flag == "--upstream-port") upstream_port = std::atoi(argv[i + 1]);
  }
  if (port <= 0 || upstream_port <= 0) {
    std::fprintf(stderr, "usage: duet-bench-floor --port P --upstream-port U\n");
    return 2;
  }
  try {
    FloorProxy(port, upstream_port).run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "duet-bench-floor: %s\n", e.what());
    return 1;
  }
}
