#include "daemon/watch_hub.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "daemon/daemon_logger.h"
#include "duet/api/watch_event.h"
#include "duet/common/json_text.h"

namespace duet::daemon {

namespace {
// A watcher this far behind is cut off; it reconnects and starts again from a snapshot.
constexpr std::size_t kMaxQueuedBytes = 16 * 1024 * 1024;
constexpr std::chrono::seconds kBookmarkEvery{5};
// How much of the recent change feed is kept for watchers that reconnect and resume.
constexpr std::size_t kHistoryEvents = 10000;
constexpr std::size_t kHistoryBytes = 32 * 1024 * 1024;
// resourceVersions reserved in the checkpoint at a time: one extra write per this many changes.
constexpr uint64_t kReserveAhead = 1000;

// 64 random bits as 16 hex digits.
std::string new_state_epoch() {
  std::random_device random;
  uint64_t bits = (uint64_t{random()} << 32) | random();
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(bits));
  return text;
}
}  // namespace

WatchHub::WatchHub(boost::asio::io_context& io) : bookmark_timer_(io), epoch_(new_state_epoch()) {
  schedule_bookmark();
}

nlohmann::json WatchHub::checkpoint_json() const {
  return {{"stateEpoch", epoch_}, {"reservedVersion", reserved_}};
}

void WatchHub::restore(uint64_t version, const nlohmann::json& saved) {
  // A checkpoint from before stateEpoch existed keeps the new one made at construction.
  if (auto epoch = saved.find("stateEpoch");
      epoch != saved.end() && epoch->is_string() && !epoch->get<std::string>().empty())
    epoch_ = epoch->get<std::string>();
  if (auto reserved = saved.find("reservedVersion");
      reserved != saved.end() && reserved->is_number_unsigned())
    reserved_ = reserved->get<uint64_t>();
  // Changes that moved only the resourceVersion are not written at once; the reserved one
  // is past all of them.
  version_ = std::max(version, reserved_);
}

// The checkpoint write comes before the line that needs it is sent. A failed write is
// logged and tried again at the next change; until one succeeds, a restart may go back.
void WatchHub::reserve_through(uint64_t version) {
  if (version <= reserved_ || !persist_) return;
  uint64_t before = reserved_;
  reserved_ = version + kReserveAhead;
  try {
    persist_();
  } catch (const std::exception& e) {
    reserved_ = before;
    watch_logger().error("resource_version_reserve_failed", {{"error", e.what()}});
  }
}

std::string WatchHub::bookmark(uint64_t version) const {
  return api::bookmark_event(version, epoch_).dump() + "\n";
}

uint64_t WatchHub::publish(api::WatchEventType type, const std::string& kind, nlohmann::json object) {
  ++version_;
  reserve_through(version_);
  auto line = json_text(api::change_event(type, kind, version_, std::move(object))) + "\n";
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

void WatchHub::subscribe(std::shared_ptr<http::Exchange> exchange, std::optional<uint64_t> since,
                         const std::string& epoch) {
  reserve_through(version_);  // changes published before the checkpoint hook was set
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
  if (since && (epoch.empty() || epoch == epoch_) && can_resume_from(*since)) {
    send_line(exchange, bookmark(*since));
    for (const auto& [version, line] : history_)
      if (version > *since) send_line(exchange, line);
    return;
  }
  auto snapshot = api::snapshot_event(version_, epoch_, node_);
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
      auto line = bookmark(version_);
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
