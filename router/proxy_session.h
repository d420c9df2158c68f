#pragma once
// One client connection to the proxy listener: reads each request (header, then body, with
// the configured limits), routes it, and either answers locally (404, 503, 413, /v1/models)
// or hands it to an UpstreamRelay. While a response is relayed it keeps a read posted on
// the client socket, so a client that goes away cancels the upstream request at once.

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "router/local_reply.h"
#include "router/recycling_allocator.h"
#include "router/request_framing.h"
#include "router/request_log.h"
#include "router/request_parser.h"
#include "router/tls_stream.h"
#include "router/upstream_relay.h"
#include "router/worker_context.h"

namespace duet::router {

// Runs on one worker thread (its io_context is the connection's implicit strand). `Stream`
// is PlainStream or, on a TLS listener, TlsStream (the handshake is the first step);
// `Upstreams` is where its relays get engine connections (upstream_relay.h).
// The framing, the JWT, the rate limit and the router's budget are checked on the header:
// a refusal goes out before the body is read.
template <class Stream, class Upstreams = TcpUpstreams>
class ProxySession : public DownstreamConnection,
                     public std::enable_shared_from_this<ProxySession<Stream, Upstreams>> {
 public:
  // `tls` is the context a TlsStream was made with, held for the connection's life.
  ProxySession(Stream stream, WorkerContext& worker, Peer peer,
               std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  ~ProxySession() override;

  void start();

  // DownstreamConnection
  void drain() override;
  void close() override;

 private:
  void do_handshake();
  void on_handshake(boost::beast::error_code ec);
  void do_read_header();
  void begin_header();
  void read_request();
  void on_request_bytes(boost::beast::error_code ec);
  bool body_within_budget();
  void request_part_read(boost::beast::error_code ec);
  void on_read_header(boost::beast::error_code ec);
  void note_request_line();
  void check_header();
  void refuse(StringResponse response);
  void refuse_overloaded(std::string_view message);
  void do_continue();
  void on_continue(boost::beast::error_code ec, std::size_t);
  void do_read_body();
  void do_drop_body();
  void read_body(std::chrono::steady_clock::duration limit);
  void on_read_body(boost::beast::error_code ec);
  void handle_request();
  void start_relay(const Route& route, RequestBody& body);
  void on_relay_done(RelayOutcome outcome);
  void reply(StringResponse response);
  void reply_error(int status, std::string message);
  void on_reply(boost::beast::error_code ec, std::size_t);
  void do_linger();
  void on_linger(boost::beast::error_code ec, std::size_t n);
  void reject(boost::beast::error_code ec);
  void reject(int status, std::string message);
  void start_watch();
  void post_watch();
  void on_watch(boost::beast::error_code ec, std::size_t n);
  // A plain connection: waits until the client's socket is readable, then reads what is there
  // (`size` at most) into buffer_ without blocking, and calls `done(ec, n)`. No read buffer
  // is held while it waits, so an idle connection costs none.
  template <class Done>
  void read_when_readable(std::size_t size, Done done);
  void end_request();
  void next_request();

  // Where the connection is: one phase at a time, which tells each handler whose turn it is.
  // closed is final (enter() keeps it).
  enum class Phase {
    reading_header,  // idle keep-alive or a header coming in (after the TLS handshake)
    checking,        // a header is read: its checks, 100 Continue, the routing decision
    reading_body,    // the body of a request that passed the checks
    relaying,        // an UpstreamRelay has the request until on_relay_done
    replying,        // a local reply is being written until on_reply
    dropping_body,   // the body of a refused request, read and dropped to keep the connection
    lingering,       // the connection ends: what the client still sends is dropped first
    resuming,        // the posted watch read is cancelled: its end starts the next request
    closed,
  };
  // What the connection does once the response in progress is out.
  enum class After {
    next_request,  // keep-alive: read the next request
    drop_body,     // a refused request: drop its body, then the next request
    close,         // the client asked for it (Connection: close, HTTP/1.0)
    linger,        // the request cannot be read on: drop what still comes, then close
  };

  void enter(Phase phase);
  // Between a request's header and the end of its response: drain() waits for it.
  bool busy() const;
  bool keep_alive() const { return after_ == After::next_request || after_ == After::drop_body; }

  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  // A plain TCP connection: the client is watched, and an idle one waits, by readiness
  // (read_when_readable()).
  static constexpr bool kWaitsForBytes = std::is_same_v<Stream, PlainStream>;
  // A body upload may be slower than a header; engines see the whole body at once anyway.
  static constexpr std::chrono::seconds kBodyTimeout{60};
  static constexpr std::chrono::seconds kReplyTimeout{30};
  // What a refused client still sends is read and dropped for at most this long and this
  // much: closing on unread bytes sends a reset, which can destroy the reply before the client
  // reads it. A refused request with a declared body up to kDropBytes keeps its connection.
  static constexpr std::chrono::seconds kLinger{2};
  static constexpr std::size_t kDropBytes = 64 * 1024;
  // A chunked body's room in the request budget grows this much at a time.
  static constexpr std::size_t kBodyBudgetStep = 64 * 1024;
  static constexpr std::string_view kRequestsFull =
      "requests in flight are at the router's limit (limits.maxInFlightRequests); retry later";
  static constexpr std::string_view kBodiesFull =
      "request bodies held by the router are at their limit (limits.maxBufferedBodyBytes); "
      "retry later";
  // Pipelined bytes kept while a response is relayed; beyond this the client is not watched.
  static constexpr std::size_t kWatchBufferLimit = 64 * 1024;
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  static constexpr std::size_t kReadSize = TimedSocket::kReadSize;

  // The peer closed, reset, timed out or the session closed it: nothing to answer.
  static bool connection_ended(boost::beast::error_code ec);

  std::shared_ptr<boost::asio::ssl::context> tls_;  // before stream_: outlives it
  Stream stream_;
  WorkerContext& worker_;
  Peer peer_;
  std::string id_;  // `worker.connection` in log lines
  // Taken for a request and freed when the connection goes idle (recycling_allocator.h).
  boost::beast::basic_flat_buffer<RecyclingAllocator<char, kReadSize>> buffer_;
  std::optional<RequestParser> parser_;
  BudgetHold budget_;
  ProxyRequest request_;
  Target first_choice_;  // the decision's first target (pointers into record_.table)
  std::weak_ptr<UpstreamRelay<Stream, Upstreams>> relay_;
  std::string reply_;  // a local reply being written
  RequestRecord record_;  // the request in progress; holds its routing table and token
  std::string sticky_;    // a number claim's text for stickiness
  std::chrono::steady_clock::time_point started_;
  std::size_t lingered_ = 0;  // bytes read and dropped since a refusal
  uint64_t requests_ = 0;
  unsigned version_ = 11;
  Phase phase_ = Phase::reading_header;
  After after_ = After::close;
  // A read is posted on the client: set while relaying, it may outlast the relay (a local
  // reply after a failed relay, resuming), so it is not a phase of its own.
  bool watching_ = false;
};

}  // namespace duet::router
