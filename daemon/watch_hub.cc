#include "daemon/watch_hub.h"

#include <algorithm>

#include "duet/common/json_text.h"

namespace duet::daemon {

namespace {
// A watcher this far behind is cut off; it reconnects and starts again from a snapshot.
constexpr std::size_t kMaxQueuedBytes = 16 * 1024 * 1024;
constexpr std::chrono::seconds kBookmarkEvery{5};
// How much of the recent change feed is kept for watchers that reconnect and resume.
constexpr std::size_t kHistoryEvents = 10000;
constexpr std::size_t kHistoryBytes = 32 * 1024 * 1024;
}  // namespace

WatchHub::WatchHub(boost::asio::io_context& io) : bookmark_timer_(io) { schedule_bookmark(); }

uint64_t WatchHub::publish(const char* type, const std::string& kind, nlohmann::json object) {
  ++version_;
  nlohmann::json event = {
      {"type", type}, {"kind", kind}, {"resourceVersion", version_}, {"object", std::move(object)}};
  auto line = json_text(event) + "\n";
  auto watchers = watchers_;  // send_line may drop a watcher
  for (const auto& w : watchers) send_line(w, line);
  remember(version_, std::move(line));
  if (on_publish_) on_publish_();
  return version_;
}

void WatchHub::remember(uint64_t version, std::string line) {
  history_bytes_ += line.size();
  history_.emplace_back(version, std::move(line));
  while (history_.size() > kHistoryEvents || history_bytes_ > kHistoryBytes) {
    history_bytes_ -= history_.front().second.size();
    history_.pop_front();
  }
}

bool WatchHub::can_resume_from(uint64_t since) const {
  if (since > version_) return false;  // from another life of duetd: start afresh
  if (since == version_) return true;
  // Every change after `since` must still be in the history.
  return !history_.empty() && history_.front().first <= since + 1;
}

void WatchHub::subscribe(std::shared_ptr<http::Exchange> exchange, std::optional<uint64_t> since) {
  http::ResponseHeader header(http::bhttp::status::ok, 11);
  header.set(http::bhttp::field::content_type, "application/x-ndjson");
  header.set(http::bhttp::field::cache_control, "no-cache");
  exchange->begin_stream(std::move(header));
  watchers_.push_back(exchange);
  // The client may go away on its own strand; dropping it is posted back to this loop.
  exchange->on_client_gone([this] {
    boost::asio::post(bookmark_timer_.get_executor(), [this] {
      std::erase_if(watchers_, [](const auto& w) { return w->client_gone(); });
    });
  });
  if (since && can_resume_from(*since)) {
    send_line(exchange, nlohmann::json{{"type", "BOOKMARK"}, {"resourceVersion", *since}}.dump() + "\n");
    for (const auto& [version, line] : history_)
      if (version > *since) send_line(exchange, line);
    return;
  }
  nlohmann::json snapshot = {{"type", "SNAPSHOT"}, {"resourceVersion", version_}};
  if (snapshot_source_) snapshot_source_(snapshot);
  send_line(exchange, json_text(snapshot) + "\n");
}

void WatchHub::send_line(const std::shared_ptr<http::Exchange>& watcher, const std::string& line) {
  if (watcher->client_gone() || watcher->queued_bytes() > kMaxQueuedBytes) {
    if (!watcher->client_gone()) watcher->finish();
    std::erase(watchers_, watcher);
    return;
  }
  watcher->send(line);
}

void WatchHub::schedule_bookmark() {
  bookmark_timer_.expires_after(kBookmarkEvery);
  bookmark_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    if (!watchers_.empty()) {
      auto line = nlohmann::json{{"type", "BOOKMARK"}, {"resourceVersion", version_}}.dump() + "\n";
      auto watchers = watchers_;
      for (const auto& w : watchers) send_line(w, line);
    }
    schedule_bookmark();
  });
}

void WatchHub::close_all() {
  bookmark_timer_.cancel();
  for (const auto& w : watchers_)
    if (!w->client_gone()) w->finish();
  watchers_.clear();
}

}  // namespace duet::daemon
