#pragma once
// What the routers say is in flight on each engine, for drains (docs/decisions.md "Drains"):
// a replica leaving for a planned reason is published Draining and stopped only once no
// router can still send it a request, nor has one on it.
//
// Each router's traffic report carries the resourceVersion its routing table was built from
// and its requests in flight per engine. An engine published Draining at version V is
// drained when every router that reports has built its table from V or later in two
// reports in a row (the first may have been read just as a worker picked from the older
// table: one report period later that request is counted in flight) and has nothing in
// flight on it. A router that has not reported for kStale is gone and not waited for, nor one
// that names no version (no table yet; or older than drains); with no router at all nothing
// can be in flight. A router that began watching a moment ago may not have reported yet: while
// anyone watches, a drain lasts at least kFirstReport, in which every router that watches
// reports. And a duetd that has just started has heard from no router yet: those of the
// duetd before it, which may have requests on the replicas it adopted, reconnect within their
// watch back-off (5 s at most), so no adopted replica's drain ends in the first kAfterStart
// of a duetd.
//
// Plain data, no I/O; the reconciler asks, the node API feeds it.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace duet::daemon {

class DrainTracker {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kStale{3};  // routers report every second
  static constexpr std::chrono::seconds kFirstReport{2};
  static constexpr std::chrono::seconds kAfterStart{8};

  explicit DrainTracker(Clock::time_point started = Clock::now()) : started_(started) {}

  // A router's report: the version its table was built from, its requests in flight by engine.
  void report(const std::string& router, uint64_t seen_version,
              std::map<std::string, uint64_t> in_flight, Clock::time_point now);
  // Whether no router sends `engine` anything any more, nor has anything on it, now that it
  // was published not Ready at resourceVersion `since`, at `started`; `watched`: a watch
  // stream is open (a router may be there that has not reported yet); `adopted`: the engine
  // ran before this duetd (routers of the one before may not be back yet).
  bool drained(const std::string& engine, uint64_t since, Clock::time_point started, bool watched,
               bool adopted, Clock::time_point now) const;
  // Requests in flight on `engine` over the routers that report.
  uint64_t in_flight(const std::string& engine, Clock::time_point now) const;

 private:
  struct RouterView {
    uint64_t seen_version = 0;
    uint64_t previous_seen_version = 0;  // of the report before
    std::map<std::string, uint64_t> in_flight;
    Clock::time_point at;
  };
  bool live(const RouterView& view, Clock::time_point now) const { return now - view.at < kStale; }

  Clock::time_point started_;
  std::map<std::string, RouterView> routers_;
};

}  // namespace duet::daemon
