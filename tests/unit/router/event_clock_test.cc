// router/event_clock.h: one reading of the clock for the handlers of one socket event, the
// clock itself everywhere else.

#include "router/event_clock.h"

#include <gtest/gtest.h>

#include <thread>

namespace duet::router {
namespace {

using Clock = EventClock::Clock;

// Polls until the steady clock has moved past `t` (it does within microseconds).
void wait_past(Clock::time_point t) {
  while (Clock::now() <= t) std::this_thread::yield();
}

TEST(EventClock, AnEventsHandlersSeeOneTimeAndOthersTheClock) {
  Clock::time_point outside = EventClock::now();
  wait_past(outside);
  EXPECT_GT(EventClock::now(), outside);  // no event: the clock
  {
    EventClock::Scope event;
    Clock::time_point at_event = EventClock::now();
    EXPECT_GT(at_event, outside);
    wait_past(at_event);
    EXPECT_EQ(EventClock::now(), at_event);
    {
      EventClock::Scope inner;  // a nested event has its own time, the outer one's after it
      EXPECT_GT(EventClock::now(), at_event);
    }
    EXPECT_EQ(EventClock::now(), at_event);
    Clock::time_point other_thread;
    std::thread([&] { other_thread = EventClock::now(); }).join();
    EXPECT_GT(other_thread, at_event);  // the time is this thread's
  }
  Clock::time_point after = EventClock::now();
  wait_past(after);
  EXPECT_GT(EventClock::now(), after);
}

}  // namespace
}  // namespace duet::router
