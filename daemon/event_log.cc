#include "daemon/event_log.h"

#include <algorithm>

namespace duet::daemon {

namespace {
// Like the API server's event TTL, but by count: a crash-looping replica must not grow it.
constexpr std::size_t kMaxEventsPerDeployment = 200;
// A repeat of one of the latest few events only bumps its count (kubectl's "x5 over 2m").
constexpr std::size_t kMergeWindow = 8;
}  // namespace

std::string rfc3339(std::chrono::system_clock::time_point t) {
  auto seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

void EventLog::record(const std::string& deployment, const std::string& object,
                      const std::string& type, const std::string& reason,
                      const std::string& message) {
  auto now = std::chrono::system_clock::now();
  auto& events = by_deployment_[deployment];
  auto window_start = events.size() > kMergeWindow ? events.end() - kMergeWindow : events.begin();
  auto same = std::find_if(window_start, events.end(), [&](const Event& e) {
    return e.object == object && e.reason == reason && e.message == message;
  });
  if (same != events.end()) {
    Event repeated = *same;
    ++repeated.count;
    repeated.last = now;
    events.erase(same);
    events.push_back(std::move(repeated));  // newest last, like the event list sorted by time
    return;
  }
  events.push_back({type, reason, object, message, 1, now, now});
  if (events.size() > kMaxEventsPerDeployment) events.pop_front();
}

nlohmann::json EventLog::list(const std::string& deployment) const {
  auto items = nlohmann::json::array();
  auto it = by_deployment_.find(deployment);
  if (it == by_deployment_.end()) return items;
  for (const auto& e : it->second)
    items.push_back({{"type", e.type},
                     {"reason", e.reason},
                     {"object", e.object},
                     {"message", e.message},
                     {"count", e.count},
                     {"firstTimestamp", rfc3339(e.first)},
                     {"lastTimestamp", rfc3339(e.last)}});
  return items;
}

}  // namespace duet::daemon
