#pragma once
// The routers' traffic reports as short time series, for the dashboard (docs/dashboard.md):
// per deployment, track and version, requests/s, error rate and first-byte p50/p99 over
// windows of kWindow, the last kKeptWindows kept. `GET /apis/v1/traffic` answers them; with
// `?watch=true` it goes on with one line per window as it closes. Daemon loop only.

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <tuple>
#include <vector>

#include "daemon/rollout/traffic.h"
#include "duet/common/http_server.h"

namespace duet::daemon {

class TrafficHistory {
 public:
  static constexpr std::chrono::seconds kWindow{2};
  static constexpr std::size_t kKeptWindows = 150;  // five minutes

  explicit TrafficHistory(boost::asio::io_context& io);

  void add(const std::vector<api::TrafficItem>& items);
  // Answers GET /apis/v1/traffic: `{"windowSeconds", "windows": [...]}`; with `watch`, the
  // same as the first line of an NDJSON stream, then each window closed after it.
  void serve(const std::shared_ptr<http::Exchange>& exchange, bool watch);
  // Ends every stream and stops the timer: duetd is stopping.
  void close_all();
  // Closes the open window now (the timer does every kWindow): for tests.
  void close_window();

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // deployment, track, version
  void schedule();
  void send_line(const std::shared_ptr<http::Exchange>& watcher, const std::string& line);
  nlohmann::json history_json() const;

  boost::asio::steady_timer timer_;
  std::map<Key, TrafficCounts> open_;
  std::deque<nlohmann::json> windows_;  // oldest first: {"endMs", "items": [...]}
  std::vector<std::shared_ptr<http::Exchange>> watchers_;
};

}  // namespace duet::daemon
