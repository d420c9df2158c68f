#pragma once
// One HTTP/1.1 keep-alive client connection of duet-bench-conns, driven by epoll readiness
// on a single thread: thousands of them are held at once, so it has no thread, timer or
// coroutine of its own. It sends a request, parses the response with Beast and reports each
// SSE payload with the time of the read that brought it, then waits for the next request.

#include <netinet/in.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "bench_util.h"

namespace duet::bench {

class HeldConn;

// What a connection tells its owner; called from HeldConn::on_ready.
class ConnEvents {
 public:
  virtual ~ConnEvents() = default;
  // An SSE `data:` payload of the current response, read at `now_ns` (monotonic).
  virtual void on_payload(HeldConn& conn, std::string_view payload, int64_t now_ns) = 0;
  // The current response ended whole (keep-alive: the connection stays open).
  virtual void on_response(HeldConn& conn, unsigned status) = 0;
  // The connection failed or the peer closed it; the owner destroys it once on_ready (or
  // the constructor: see closed()) has returned.
  virtual void on_closed(HeldConn& conn) = 0;
};

class HeldConn {
 public:
  // Starts a non-blocking connect; `request` is sent once it is established.
  HeldConn(int epoll_fd, const sockaddr_in& to, std::string request, ConnEvents& events,
           int role);
  ~HeldConn();  // closes with a reset, so that no TIME_WAIT holds the client's port
  HeldConn(const HeldConn&) = delete;
  HeldConn& operator=(const HeldConn&) = delete;

  // Sends `request` on the open connection (the previous response must have ended).
  void send(std::string request);
  // The epoll events of this connection's socket.
  void on_ready(uint32_t events);

  int role() const { return role_; }  // the owner's tag (idle or stream)
  bool closed() const { return fd_ < 0; }
  int responses = 0;                  // ended whole, on this connection
  int payloads_in_response = 0;       // SSE payloads of the current response

 private:
  void watch(uint32_t events);
  void flush_output();
  void read_input();
  void fail();

  int epoll_fd_;
  int fd_;
  bool connected_ = false;
  std::string output_;  // what is left to write of the request
  boost::beast::flat_buffer input_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
  SseReader sse_;
  int64_t read_at_ns_ = 0;  // when the bytes being parsed were read
  // Each chunk of a chunked body, as its bytes arrive: the SSE payloads in it.
  std::function<std::size_t(uint64_t, std::string_view, boost::system::error_code&)> on_body_;
  ConnEvents& events_;
  int role_;
};

}  // namespace duet::bench
