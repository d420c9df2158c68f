#include "daemon/drain_tracker.h"

namespace duet::daemon {

void DrainTracker::report(const std::string& router, uint64_t seen_version,
                          std::map<std::string, uint64_t> in_flight, Clock::time_point now) {
  auto& view = routers_[router];
  // After a silence the last report says nothing of what the router's table held since.
  view.previous_seen_version = live(view, now) ? view.seen_version : 0;
  view.seen_version = seen_version;
  view.in_flight = std::move(in_flight);
  view.at = now;
  std::erase_if(routers_, [&](const auto& entry) { return !live(entry.second, now); });
}

bool DrainTracker::drained(const std::string& engine, uint64_t since, Clock::time_point started,
                           bool watched, bool adopted, Clock::time_point now) const {
  if (watched && now - started < kFirstReport) return false;
  if (adopted && now - started_ < kAfterStart) return false;
  for (const auto& [router, view] : routers_) {
    // 0: no table yet, so nothing routed; or a router from before drains, which says nothing.
    if (!live(view, now) || view.seen_version == 0) continue;
    if (view.seen_version < since || view.previous_seen_version < since) return false;
    auto it = view.in_flight.find(engine);
    if (it != view.in_flight.end() && it->second > 0) return false;
  }
  return true;
}

uint64_t DrainTracker::in_flight(const std::string& engine, Clock::time_point now) const {
  uint64_t total = 0;
  for (const auto& [router, view] : routers_) {
    if (!live(view, now)) continue;
    auto it = view.in_flight.find(engine);
    if (it != view.in_flight.end()) total += it->second;
  }
  return total;
}

}  // namespace duet::daemon
