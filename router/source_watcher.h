#pragma once
// Follows one duetd's watch stream (GET /apis/v1/watch, NDJSON) and keeps its SourceState.
// When the stream breaks it reconnects with backoff (100 ms doubling to 5 s) and keeps the
// last known state until a new snapshot replaces it, so the router goes on serving while a
// duetd restarts (static stability). A snapshot that state_guard.h refuses (duetd lost its
// state) is kept aside and followed until it may replace the state in use. A stream without
// a line for 15 s counts as dead (duetd sends a BOOKMARK every 5 s when quiet).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "duet/common/http_client.h"
#include "duet/common/line_splitter.h"
#include "router/config.h"
#include "router/watch_state.h"

namespace duet::router {

struct WatchTiming {
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  std::chrono::milliseconds dead_after{15000};     // no line for this long: reconnect
  std::chrono::milliseconds header_timeout{5000};  // connect and response header
  // A line longer than this is no watch stream: dropped before it takes the router's memory.
  // A snapshot of thousands of engines is a few MB; duetd keeps 32 MiB of changes to resume.
  std::size_t max_line_bytes = 64 * 1024 * 1024;
};

// A request to a duetd's node API, with the source's bearer token when it has one. Throws
// std::runtime_error when the token file cannot be read.
duet::http::ClientRequest source_request(const SourceConfig& source, duet::http::bhttp::verb method,
                                         std::string_view target, std::string body = {});

// Everything runs on the control io_context (one thread). Owned by a shared_ptr: pending
// operations hold it weakly and do nothing once it is gone.
class SourceWatcher : public std::enable_shared_from_this<SourceWatcher> {
 public:
  // `on_change` runs (on the control thread) whenever state() changed in a way that matters
  // for routing.
  SourceWatcher(boost::asio::io_context& io, SourceConfig source, std::function<void()> on_change,
                WatchTiming timing = {});

  void start();
  // Closes the stream and stops reconnecting.
  void stop();

  const SourceConfig& source() const { return source_; }
  const SourceState& state() const { return state_; }
  bool connected() const { return connected_; }
  // {"source", "connected", "synced", "resourceVersion", "stateEpoch", "stale", ["reason"],
  // "servingLastKnownState", "snapshots", "resumes", "error"} for /readyz and /config.
  nlohmann::json status() const;

 private:
  void connect();
  duet::http::ClientRequest make_watch_request() const;
  void on_header(const duet::http::ClientResponseHeader& header);
  void on_data(std::string_view piece);
  void on_line(const std::string& line);
  void judge_offered(bool snapshot);
  bool resumes_here(const api::WatchEvent& first_event) const;
  void on_end(duet::http::error_code ec);
  void arm_dead_timer();
  // Ends the current connection; `relist`: the next one asks for a snapshot, not a resume.
  void abandon(std::string reason, bool relist = false);

  boost::asio::io_context& io_;
  SourceConfig source_;
  std::function<void()> on_change_;
  WatchTiming timing_;
  SourceState state_;
  std::optional<SourceState> offered_;  // this connection's state, while refused
  std::string stale_;                   // why offered_ was refused
  std::shared_ptr<duet::http::ClientCall> call_;
  LineSplitter splitter_;
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer dead_timer_;
  std::chrono::milliseconds backoff_;
  std::string error_;            // why the last connection ended; empty once synced again
  std::string end_reason_;       // why this side ended the current connection
  bool connected_ = false;       // a 200 header came on the current connection
  bool fresh_snapshot_ = false;  // the current connection has sent its SNAPSHOT (or resumed)
  // The resourceVersion the current connection asked to resume after, until its first line.
  std::optional<uint64_t> resume_from_;
  int resumes_ = 0;    // reconnects that got the missed changes instead of a snapshot
  int snapshots_ = 0;  // SNAPSHOT lines received
  bool relist_ = false;  // the next connection asks for a snapshot
  bool stopped_ = false;
};

}  // namespace duet::router
