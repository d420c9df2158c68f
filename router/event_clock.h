#pragma once
// The time of the socket event a worker thread is handling, read once for it. The request
// path read the clock some 15 times a request (each step's deadline, the latencies it logs
// and learns from, the pick, the limits, the engine pool): a vDSO call each, 15 of them a
// request (callgrind). nginx reads the time once per pass of its event loop
// (ngx_time_update) for the same reason. Outside an event, in what Asio runs (timers,
// accepts, posted handlers), now() reads the clock, so nothing there sees an old time;
// inside one, the time is as old as the handling of that one event so far (microseconds).

#include <chrono>

namespace duet::router {

class EventClock {
 public:
  using Clock = std::chrono::steady_clock;

  static Clock::time_point now() noexcept {
    return event_time_ != Clock::time_point::min() ? event_time_ : Clock::now();
  }

  // While one lives on this thread, now() is the time it was made (edge_reactor.cc, around
  // each event's handlers).
  class Scope {
   public:
    Scope() noexcept : outer_(event_time_) { event_time_ = Clock::now(); }
    ~Scope() { event_time_ = outer_; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Clock::time_point outer_;
  };

 private:
  static inline thread_local Clock::time_point event_time_ = Clock::time_point::min();
};

}  // namespace duet::router
