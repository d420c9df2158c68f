#include "daemon/rollout/traffic_history.h"

#include <boost/asio/post.hpp>

#include "duet/common/json_text.h"

namespace duet::daemon {

using nlohmann::json;

namespace {

// A watcher this far behind (a tab left in the background on a slow link) is cut off; it
// reconnects and gets the history again.
constexpr std::size_t kMaxQueuedBytes = 1024 * 1024;
constexpr std::size_t kMaxWatchers = 64;
// Series (deployment, track, version) a window keeps: a report naming more (a router's token
// is no licence to fill duetd's memory for 5 minutes) adds to those already there only.
constexpr std::size_t kMaxSeries = 1024;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json optional_ms(std::optional<double> ms) { return ms ? json(*ms) : json(nullptr); }

json window_item(const std::string& deployment, const std::string& track,
                 const std::string& version, const TrafficCounts& counts) {
  double seconds = std::chrono::duration<double>(TrafficHistory::kWindow).count();
  double errors = static_cast<double>(std::min(error_total(counts), counts.requests));
  return {{"deployment", deployment},
          {"track", track},
          {"version", version},
          {"requests", counts.requests},
          {"requestsPerSecond", static_cast<double>(counts.requests) / seconds},
          {"errorRate", counts.requests ? errors / static_cast<double>(counts.requests) : 0.0},
          {"p50FirstByteMs", optional_ms(quantile_ms(counts, 0.5))},
          {"p99FirstByteMs", optional_ms(quantile_ms(counts, 0.99))},
          {"p50DurationMs", optional_ms(duration_quantile_ms(counts, 0.5))},
          {"p99DurationMs", optional_ms(duration_quantile_ms(counts, 0.99))}};
}

}  // namespace

TrafficHistory::TrafficHistory(boost::asio::io_context& io) : timer_(io) { schedule(); }

void TrafficHistory::schedule() {
  timer_.expires_after(kWindow);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    close_window();
    schedule();
  });
}

void TrafficHistory::add(const std::vector<api::TrafficItem>& items) {
  for (const auto& item : items) {
    Key key{item.deployment, std::string(api::to_string(item.track)), item.version};
    auto it = open_.find(key);
    if (it == open_.end() && open_.size() >= kMaxSeries) continue;
    add_counts(it != open_.end() ? it->second : open_[key], item.counts);
  }
}

void TrafficHistory::close_window() {
  json items = json::array();
  for (const auto& [key, counts] : open_)
    items.push_back(window_item(std::get<0>(key), std::get<1>(key), std::get<2>(key), counts));
  open_.clear();
  json window = {{"endMs", now_ms()}, {"items", std::move(items)}};
  auto line = json_text(json{{"type", "WINDOW"}, {"window", window}}) + "\n";
  windows_.push_back(std::move(window));
  if (windows_.size() > kKeptWindows) windows_.pop_front();
  auto watchers = watchers_;  // send_line may drop one
  for (const auto& w : watchers) send_line(w, line);
}

void TrafficHistory::close_all() {
  timer_.cancel();
  for (const auto& w : watchers_)
    if (!w->client_gone()) w->finish();
  watchers_.clear();
}

json TrafficHistory::history_json() const {
  json windows = json::array();
  for (const auto& w : windows_) windows.push_back(w);
  return {{"windowSeconds", kWindow.count()}, {"windows", std::move(windows)}};
}

void TrafficHistory::serve(const std::shared_ptr<http::Exchange>& exchange, bool watch) {
  if (!watch) return exchange->reply(http::bhttp::status::ok, json_text(history_json()) + "\n");
  if (watchers_.size() >= kMaxWatchers) {
    exchange->reply_error(503, "too many traffic watchers");
    return;
  }
  http::ResponseHeader header(http::bhttp::status::ok, 11);
  header.set(http::bhttp::field::content_type, "application/x-ndjson");
  exchange->begin_stream(std::move(header));
  watchers_.push_back(exchange);
  exchange->on_client_gone([this, ex = timer_.get_executor()] {
    boost::asio::post(ex, [this] {
      std::erase_if(watchers_, [](const auto& w) { return w->client_gone(); });
    });
  });
  auto first = history_json();
  first["type"] = "HISTORY";
  send_line(exchange, json_text(first) + "\n");
}

void TrafficHistory::send_line(const std::shared_ptr<http::Exchange>& watcher,
                               const std::string& line) {
  if (watcher->client_gone() || watcher->queued_bytes() > kMaxQueuedBytes) {
    if (!watcher->client_gone()) watcher->finish();
    std::erase(watchers_, watcher);
    return;
  }
  watcher->send(line);
}

}  // namespace duet::daemon
