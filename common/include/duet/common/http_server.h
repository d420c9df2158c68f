#pragma once
// A small HTTP/1.1 server over TCP (plain or TLS) or a unix socket, used by duetd's node API
// and duet-sim.
// Handlers answer a request whole (reply) or as a chunked stream (begin_stream/send/finish);
// a client that goes away mid-stream is reported so the work for it can stop. A header check
// may refuse a request before its body is read; connections are capped and accept backs off.

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "duet/common/address.h"

namespace boost::asio::ssl {
class context;
}

namespace duet::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

using Request = bhttp::request<bhttp::string_body>;
using RequestHeader = bhttp::request_header<>;
using Response = bhttp::response<bhttp::string_body>;
using ResponseHeader = bhttp::response<bhttp::empty_body>;

class ServerSession;

// One request and its answer. A handler may keep it (it is shared) to answer later, but
// must call its methods on executor(): the connection's strand.
class Exchange {
 public:
  Exchange(std::shared_ptr<ServerSession> session, Request request, std::string caller);
  ~Exchange();

  const Request& request() const { return request_; }
  asio::any_io_executor executor() const;
  // The client's address, for logs and for stickiness when no JWT claim exists.
  const std::string& remote() const;
  // Who sent the request, for the audit log: `uid:N` on a unix socket (the peer's
  // credentials), what the header check named on TCP (`sub:NAME`), else empty.
  const std::string& caller() const { return caller_; }

  // Sends a whole response. Content-Length and keep-alive are filled in.
  void reply(Response response);
  void reply(bhttp::status status, std::string body,
             std::string_view content_type = "application/json");
  // An error reply in the OpenAI JSON shape, naming `param` (a field or header) if given.
  void reply_error(int status, std::string_view message, std::string_view param = {});

  // Sends the header with chunked transfer encoding; send() then writes one chunk each.
  void begin_stream(ResponseHeader header);
  void send(std::string_view data);
  void finish();
  // Ends the connection once what was sent is written, without the rest of the answer: a FIN
  // (the client reads EOF mid-answer) or, with `reset`, an RST. For injected faults: an
  // engine that dies in the middle of an answer (duet-sim --crash-mode).
  void break_off(bool reset);

  // True once reply() or begin_stream() was called.
  bool answered() const { return answered_; }
  // True once the client closed the connection; sends after that are dropped.
  bool client_gone() const;
  // Runs once if the client goes away before the answer is complete.
  void on_client_gone(std::function<void()> callback);
  // Bytes queued for the client and not yet written: a streaming producer slows down on it.
  std::size_t queued_bytes() const;
  // Runs once if the server's graceful stop runs out of time while this answer is still in
  // progress: the handler ends it now (a stream with an error event, else an error reply);
  // the connection closes after that.
  void on_cut(std::function<void()> callback);

 private:
  std::shared_ptr<ServerSession> session_;
  Request request_;
  std::string caller_;
  bool answered_ = false;
};

using Handler = std::function<void(std::shared_ptr<Exchange>)>;
// Sees a request's header before its body is read; a response it returns is sent at once
// and the connection closed with the body unread (a 401 costs no upload). `remote` is the
// client's address; `caller` comes in as Exchange::caller() would be without the check and
// may be set to who the check found the request to come from (a token's subject). Runs on the
// connection's strand; an exception from it is a 500.
using HeaderCheck = std::function<std::optional<Response>(
    const RequestHeader& header, const std::string& remote, std::string& caller)>;

struct ServerOptions {
  std::size_t body_limit = 8 * 1024 * 1024;
  std::size_t header_limit = 16 * 1024;
  std::chrono::milliseconds header_timeout{30'000};  // header and body; also the keep-alive idle time
  unsigned unix_socket_mode = 0660;
  std::string server_name = {};  // the Server header; none when empty
  // Headers every answer carries unless its handler set them (Cache-Control: no-store on
  // duetd's API answers, which a browser must not keep).
  std::vector<std::pair<std::string, std::string>> default_headers = {};
  HeaderCheck header_check = {};  // none: every header is let through
  // Connections open at once; one more is answered 503 with Retry-After: 1 and closed, so
  // that a flood of idle connections cannot take every file descriptor.
  std::size_t max_connections = 1024;
  // TCP listeners speak TLS with this context (duet/common/tls.h); none: plain.
  std::shared_ptr<asio::ssl::context> tls = {};
};

class Server {
 public:
  Server(asio::io_context& io, Handler handler, ServerOptions options = {});
  ~Server();

  // Binds and listens. A stale unix socket file is replaced. Throws std::system_error
  // naming the address when it cannot bind.
  void listen(const Address& address);
  // Serves on a socket that is already listening (handed over by another process).
  void listen_on(int fd);
  // The listening sockets' descriptors, in listen() order: what a successor inherits.
  std::vector<int> listening_fds() const;
  // TCP ports actually bound, in listen() order (0 for unix sockets): for ephemeral ports.
  std::vector<uint16_t> ports() const;
  // New TCP connections use this TLS context (certificates rotated); open ones keep theirs.
  void set_tls(std::shared_ptr<asio::ssl::context> tls);
  // Stops accepting and closes every open connection.
  void stop();
  // Stops accepting; a connection between requests closes now, one with an answer in
  // progress once that answer is complete (no keep-alive after it). Answers still in
  // progress after `deadline` are cut (Exchange::on_cut, then the connection closes).
  // `done` runs on an io_context thread once the last connection is gone.
  void stop_gracefully(std::chrono::milliseconds deadline, std::function<void()> done);

  struct State;

 private:
  void do_accept(std::size_t index);
  void stop_accepting();
  void back_off(std::size_t index, const boost::system::error_code& ec);

  asio::io_context& io_;
  std::shared_ptr<State> state_;
};

}  // namespace duet::http
