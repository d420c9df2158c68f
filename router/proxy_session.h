#pragma once
// One client connection to the proxy listener: reads each request (header, then body, with
// the configured limits), routes it, and either answers locally (404, 503, 413, /v1/models)
// or hands it to an UpstreamRelay. While a response is relayed it keeps a read posted on
// the client socket, so a client that goes away cancels the upstream request at once.

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "router/local_reply.h"
#include "router/request_framing.h"
#include "router/request_log.h"
#include "router/tls_stream.h"
#include "router/upstream_relay.h"
#include "router/worker_context.h"

namespace duet::router {

// Runs on one worker thread (its io_context is the connection's implicit strand). `Stream`
// is PlainStream or, on a TLS listener, TlsStream (the handshake is the first step).
// The framing, the JWT, the rate limit and the router's budget are checked on the header:
// a refusal goes out before the body is read.
template <class Stream>
class ProxySession : public DownstreamConnection,
                     public std::enable_shared_from_this<ProxySession<Stream>> {
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
  void read_request();
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
  void on_watch(boost::beast::error_code ec, std::size_t n);
  void end_request();
  void next_request();

  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  std::shared_ptr<boost::asio::ssl::context> tls_;  // before stream_: outlives it
  Stream stream_;
  WorkerContext& worker_;
  Peer peer_;
  std::string id_;  // `worker.connection` in log lines
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  HeaderFields header_fields_;  // of a chunked request: what is not in it is its trailer
  BudgetHold budget_;
  ProxyRequest request_;
  std::shared_ptr<const RoutingTable> table_;  // held for the whole request
  Target first_choice_;  // the decision's first target (pointers into table_)
  std::weak_ptr<UpstreamRelay<Stream>> relay_;
  std::string reply_;  // a local reply being written
  RequestRecord record_;
  std::string target_;                           // backs record_.target
  std::string error_;                            // backs record_.error
  std::shared_ptr<const jwt::Verdict> verdict_;  // the request's token; backs record_.subject
  std::string sticky_;                           // a number claim's text for stickiness
  LocalHistogram chunk_gaps_;                    // backs record_.chunk_gaps
  std::chrono::steady_clock::time_point started_;
  std::size_t header_bytes_ = 0;  // of the request's header, held to maxHeaderBytes
  std::size_t lingered_ = 0;  // bytes read and dropped since a refusal
  uint64_t requests_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool close_after_reply_ = false;
  bool busy_ = false;       // between a request's header and the end of its response
  bool watching_ = false;   // a read is posted on the client while the relay runs
  bool want_next_ = false;  // that read, once ended, starts the next request
  bool relaying_ = false;
  bool reading_body_ = false;  // read_request's part: the header, or the body after it
  bool discard_body_ = false;  // the body of a refused request, read to keep the connection
  bool closed_ = false;
};

}  // namespace duet::router
