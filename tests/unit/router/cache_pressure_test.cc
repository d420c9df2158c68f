// How fast each engine's prefix cache turns over: the rates the control thread keeps, and
// the doublings and reuse the scheduler reads from them.
#include "router/cache_pressure.h"

#include <gtest/gtest.h>

#include <array>
#include <limits>

namespace duet::router {
namespace {

using std::chrono::seconds;

TEST(CacheRates, FollowTheCountsAndForgetEndpointsThatLeft) {
  EndpointLoad busy, idle;
  CacheRates rates;
  auto start = std::chrono::steady_clock::now();
  std::array<EndpointLoad*, 2> both{&busy, &idle};
  rates.sample(both, start);
  EXPECT_EQ(busy.cache_write_rate, 0);  // one sample is no rate
  for (int s = 1; s <= 300; ++s) {  // 100 chunks a second for ten windows
    busy.cache_written += 100;
    busy.cache_sent += 400;
    rates.sample(both, start + seconds(s));
  }
  EXPECT_NEAR(busy.cache_write_rate, 100, 1);
  EXPECT_NEAR(busy.cache_send_rate, 400, 4);
  EXPECT_EQ(idle.cache_write_rate, 0);
  // Gone from the table, then back: what it was written meanwhile is no burst of writes.
  std::array<EndpointLoad*, 1> busy_only{&busy};
  rates.sample(busy_only, start + seconds(301));
  idle.cache_written += 1'000'000;
  rates.sample(both, start + seconds(302));
  rates.sample(both, start + seconds(303));
  EXPECT_EQ(idle.cache_write_rate, 0);
}

TEST(CacheRates, ACountThatWrapsIsStillARate) {
  EndpointLoad load;
  load.cache_written = std::numeric_limits<uint32_t>::max() - 9;
  CacheRates rates;
  std::array<EndpointLoad*, 1> one{&load};
  auto start = std::chrono::steady_clock::now();
  rates.sample(one, start);
  load.cache_written += 3000;  // wraps
  rates.sample(one, start + seconds(1));
  EXPECT_GT(load.cache_write_rate, 0);
  EXPECT_LT(load.cache_write_rate, 3000);  // averaged over the window, not a jump of 2^32
}

TEST(CachePressureDoublings, AreTheTurnoverOverThePoolsWithinBounds) {
  EXPECT_EQ(cache_pressure_doublings(100, 1000, 300, 3000), 0);   // as the pool
  EXPECT_EQ(cache_pressure_doublings(200, 1000, 300, 3000), 1);   // twice as fast
  EXPECT_EQ(cache_pressure_doublings(100, 2000, 200, 2000), -1);  // a cache twice the size
  EXPECT_EQ(cache_pressure_doublings(3000, 1000, 3000, 30000), kMostPressureDoublings);  // 10×
  EXPECT_EQ(cache_pressure_doublings(0, 1000, 300, 3000), -kMostPressureDoublings);  // idle or new
  EXPECT_EQ(cache_pressure_doublings(0, 1000, 0, 3000), 0);  // nothing written anywhere yet
  EXPECT_EQ(cache_pressure_doublings(100, 0, 300, 3000), 0);  // size unknown
}

TEST(CacheReuse, IsTheShareOfWhatWasSentThatWasHeld) {
  EXPECT_DOUBLE_EQ(cache_reuse(100, 500), 0.8);
  EXPECT_EQ(cache_reuse(500, 500), 0);  // prompts that share nothing
  EXPECT_EQ(cache_reuse(0, 0), 0);      // nothing sent yet
  EXPECT_EQ(cache_reuse(0, 500), 1);
  EXPECT_EQ(cache_reuse(600, 500), 0);  // the averages apart for a moment: still a share
}

}  // namespace
}  // namespace duet::router
