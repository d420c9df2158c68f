#pragma once
// One proxied request on the upstream side: pick an endpoint, send the request over a pooled
// keep-alive connection, read the response header, write it to the client with the x-duet-*
// headers, then pass the body on piece by piece as it arrives (SSE is never buffered whole).
// A failure before the response header goes to another endpoint (route retries.attempts).

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "router/ejection.h"
#include "router/forward_headers.h"
#include "router/latency_histogram.h"
#include "router/response_parser.h"
#include "router/route_decision.h"
#include "router/stream_splicer.h"
#include "router/upstream_pool.h"
#include "router/worker_context.h"

namespace duet::router {

struct RelayOutcome {
  int status = 0;                  // the engine's status, or the error status for a local reply
  std::string error;               // why it failed; empty on success
  bool response_started = false;   // the client got a response header from the engine
  bool client_reusable = true;     // the client connection may take another request
  const Target* target = nullptr;  // where it went (valid while the table is held)
  const Endpoint* endpoint = nullptr;
  std::string decision;  // why it went there (x-duet-decision)
  PickReason why;
  unsigned attempts = 0;
  uint64_t bytes = 0;                                // body bytes sent to the client
  std::chrono::steady_clock::duration first_byte{};  // to the first body byte (or header)
  LocalHistogram chunk_gaps;                         // between body pieces
  unsigned migrations = 0;  // engines that took the stream over mid-answer (stream_splicer.h)
};

// Where a relay's engine connections come from: the worker's pool of keep-alive TCP
// connections. The seam of the unit tests, which script engines on in-memory streams.
struct TcpUpstreams {
  using Connection = UpstreamConnection;

  // An idle connection to `to`, or null.
  static std::unique_ptr<Connection> take(WorkerContext& worker,
                                          const boost::asio::ip::tcp::endpoint& to) {
    return worker.upstreams.take(to);
  }
  // Keeps a connection whose response ended cleanly for the next request to its peer.
  static void put(WorkerContext& worker, std::unique_ptr<Connection> connection) {
    worker.upstreams.put(std::move(connection));
  }
  // A new connection, not yet connected.
  static std::unique_ptr<Connection> open(WorkerContext& worker) {
    return std::make_unique<Connection>(
        TimedSocket(worker.io.get_executor(), worker.deadlines, worker.reactor));
  }
};

// Runs on the worker thread of the client connection; `Stream` is the client's stream
// (PlainStream, or TlsStream on a TLS listener); `Upstreams` gives the engine connections.
template <class Stream, class Upstreams = TcpUpstreams>
class UpstreamRelay : public std::enable_shared_from_this<UpstreamRelay<Stream, Upstreams>> {
 public:
  using Done = std::function<void(RelayOutcome)>;

  // `client` and `peer` must outlive the relay (the session that owns them keeps itself
  // alive through `done`). `request` is the client's, rewritten here for the engine; `done`
  // runs once, on this thread, when the response ended or could not be had.
  UpstreamRelay(Stream& client, WorkerContext& worker, std::shared_ptr<const RoutingTable> table,
                Decision decision, ProxyRequest request, const Peer& peer, Done done);

  void start();
  // The client went away: closes the upstream connection so the engine stops the work;
  // `done` follows once the pending operation has ended.
  void cancel();

 private:
  void try_next();
  void expect_first_byte();
  void do_connect();
  void on_connect(boost::beast::error_code ec);
  void do_write_request();
  void on_write_request(boost::beast::error_code ec, std::size_t);
  void await_response();
  void new_response_parser();
  void skip_interim();
  void wait_for_engine();
  void on_engine_read(boost::beast::error_code ec, std::size_t n);
  void parse_response();
  void put_buffered(std::string& body, boost::beast::error_code& ec);
  void read_more();
  void response_failed(boost::beast::error_code ec);
  void start_response();
  void upstream_failed(boost::beast::error_code ec, const char* stage);
  void eject_if_failing(Failure failure);
  void note_body_piece();
  void pass_on(std::size_t n);
  void do_write_client();
  void on_write_client(boost::beast::error_code ec, std::size_t);
  void complete();
  void finish(int status, std::string error);
  // Mid-stream migration (stream_splicer.h), on a Route with `migration.enabled`.
  void begin_migratable();
  void pass_on_spliced(std::string_view piece);
  // The engine answering failed mid-answer (passive health hears of `engine_failure`): the
  // next one continues, or the client's stream ends (an error event, or a whole answer's end).
  void migrate(Failure engine_failure);
  // The next engine of a moving stream comes from the worker's newest routing table, from
  // the deployment and track it was answered from (route_decision.h, continuation()).
  void aim_continuation();
  // No such engine is Ready and untried: duetd may be starting one. Looks again every
  // kReadyPoll until migration.readyWaitMs has passed, then ends the client's stream.
  void wait_for_ready();
  // Writes the client's last bytes (`events`, then the end of the body), then finishes.
  void close_client(std::string_view events, std::string error);

  // An engine that does not accept within this is treated like one that refused (failover),
  // even when the route allows a much longer wait for the first byte.
  static constexpr std::chrono::seconds kConnectTimeout{5};
  // Also bounds a chunk's size line and the trailer section (response_parser.h).
  static constexpr std::size_t kUpstreamHeaderLimit = 64 * 1024;
  static constexpr std::size_t kReadSize = TimedSocket::kReadSize;
  static constexpr unsigned kMaxWritesNow = 16;
  static constexpr std::chrono::milliseconds kReadyPoll{50};

  Stream& client_;
  WorkerContext& worker_;
  // The tables pointers here come from: the request's (decision_.route's); after a migration
  // the newest, which decision_'s targets and tried_ point into, and the one the engine
  // answering now (outcome_.endpoint) was picked from.
  std::shared_ptr<const RoutingTable> table_;
  std::shared_ptr<const RoutingTable> newest_table_;
  std::shared_ptr<const RoutingTable> picked_table_;
  Decision decision_;
  ProxyRequest request_;
  Done done_;
  bool client_keep_alive_;
  unsigned client_version_;
  std::chrono::steady_clock::time_point started_;
  const Peer& peer_;

  Pick pick_;
  std::array<const Endpoint*, 8> tried_{};
  std::size_t tried_count_ = 0;
  bool fresh_retry_used_ = false;
  InFlight in_flight_;
  PendingPrefill prefill_;
  std::string decision_text_;  // x-duet-decision of the current pick
  std::unique_ptr<typename Upstreams::Connection> upstream_;
  std::optional<ResponseParser> parser_;
  std::string wire_;  // bytes being written: the request to the engine, then the response
  bool client_chunked_ = false;
  boost::beast::error_code failure_;  // a bad body behind a header: failed once it is out
  unsigned writes_now_ = 0;      // client writes done without a handler, in a row
  RelayOutcome outcome_;
  std::chrono::steady_clock::time_point last_piece_{};
  bool cancelled_ = false;
  bool finished_ = false;
  std::optional<StreamSplicer> splicer_;  // set for a stream that may move
  bool continuing_ = false;      // this engine continues an answer whose header went out
  bool header_read_ = false;     // this engine's response header (each engine's, in turn)
  bool migrate_pending_ = false;  // once what was written to the client is out
  Target continuing_from_;        // the deployment and track a moving stream stays on
  std::string client_target_;     // the client's request target (an exact continuation's is not)
  std::chrono::steady_clock::time_point ready_deadline_{};
  std::optional<boost::asio::steady_timer> ready_timer_;
  bool closing_ = false;          // the client's last bytes are being written
  // The last piece before the latest migration, until the continuation's first is logged.
  std::optional<std::chrono::steady_clock::time_point> seam_from_;
  std::string closing_error_;
};

}  // namespace duet::router
