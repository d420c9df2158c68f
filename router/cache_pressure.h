#pragma once
// Where a new prefix goes (docs/scheduling.md, "Where a new prefix goes"): how fast each
// engine's prefix cache turns over. A prompt that no engine holds (a new conversation, a new
// shared document) brings the requests that will reuse it. Sent to whichever engine starts it
// soonest, new prefixes piled onto the fastest devices, whose caches then evicted their
// users' earlier turns before the next turn came, and those turns were computed again
// (bench/scheduling, shared-context). The router knows what it wrote into each cache (the
// prefix chunks a pick sent that the engine did not hold), what it sent (held or not) and
// each cache's size, so it can tell which caches turn over fastest, and whether what they
// hold is reused at all.

#include <chrono>
#include <cstdint>
#include <map>
#include <span>

#include "router/routing_table.h"

namespace duet::router {

// The rates are averaged over about this long: a few turns of a conversation.
inline constexpr std::chrono::seconds kCacheRateWindow{30};
// A cache idle or new is not taken as more than this many times less pressed than the pool,
// nor a busy one as more pressed, so that one new engine does not draw every new prefix.
inline constexpr double kMostPressureDoublings = 2;

// Keeps each endpoint's EndpointLoad::cache_write_rate and cache_send_rate, the prefix chunks
// written into its cache and sent to it a second (exponentially weighted averages over
// kCacheRateWindow), from its running counts cache_written and cache_sent. The control
// thread samples every scrape interval.
class CacheRates {
 public:
  // Samples every endpoint of `loads` at `now`, and forgets those not among them.
  void sample(std::span<EndpointLoad* const> loads, std::chrono::steady_clock::time_point now);

 private:
  struct Last {
    uint32_t written;
    uint32_t sent;
    std::chrono::steady_clock::time_point at;
  };
  std::map<uint64_t, Last> last_;  // by EndpointLoad::id
};

// How many times faster than the pool's caches an endpoint's cache turns over (its write
// rate over its capacity, against the pool's total rate over its total capacity), in
// doublings, within ±kMostPressureDoublings; 0 while the pool has written nothing.
double cache_pressure_doublings(double rate, double capacity, double pool_rate, double pool_capacity);

// The share of the prefix chunks sent to the pool that its caches held, lately: what keeping
// a cache's contents is worth. 0 where prompts share nothing (every chunk sent is written),
// and then where a prefix goes does not matter.
double cache_reuse(double pool_write_rate, double pool_send_rate);

}  // namespace duet::router
