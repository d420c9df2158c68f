#include "daemon/event_log.h"

#include <gtest/gtest.h>

namespace duet::daemon {
namespace {

TEST(EventLog, RepeatsAreCountedNotListedAgain) {
  EventLog log;
  log.normal("chat", "chat-0", "Started", "started process pid 1");
  log.warning("chat", "chat-0", "BackOff", "restarting in 1s");
  log.warning("chat", "chat-0", "BackOff", "restarting in 1s");
  log.normal("other", "other-0", "Started", "x");
  auto items = log.list("chat");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1]["reason"], "BackOff");
  EXPECT_EQ(items[1]["type"], "Warning");
  EXPECT_EQ(items[1]["count"], 2);
  EXPECT_EQ(log.list("other").size(), 1u);
  EXPECT_TRUE(log.list("none").empty());
  log.forget("chat");
  EXPECT_TRUE(log.list("chat").empty());
}

TEST(EventLog, KeepsABoundedHistory) {
  EventLog log;
  for (int i = 0; i < 1000; ++i) log.normal("chat", "chat-0", "Started", "pid " + std::to_string(i));
  auto items = log.list("chat");
  EXPECT_EQ(items.size(), 200u);
  EXPECT_EQ(items.back()["message"], "pid 999");
}

}  // namespace
}  // namespace duet::daemon
