#pragma once
// rateLimit.perSubject: a token bucket per subject, shared by all worker threads so that a
// client's limit does not depend on how the kernel spread its connections. The buckets are
// split over 64 shards, each with its own lock: two workers wait for each other only when
// their subjects fall in the same shard, never on one lock that all requests take.

#include <array>
#include <chrono>
#include <mutex>
#include <optional>
#include <string_view>

#include "router/string_map.h"

namespace duet::router {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // `rate` tokens a second, at most `burst` saved up (a new subject starts full).
  RateLimiter(double rate, double burst);

  // Takes a token from `subject`'s bucket: nullopt when there was one, else how long until
  // there is (the Retry-After, whole seconds, at least 1). Any thread.
  std::optional<std::chrono::seconds> acquire(std::string_view subject, Clock::time_point now);

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  struct alignas(64) Shard {
    std::mutex mutex;
    StringMap<Bucket> buckets;
    Clock::time_point last_sweep{};
  };

  void sweep(Shard& shard, Clock::time_point now);

  double rate_;
  double burst_;
  std::array<Shard, 64> shards_;
};

}  // namespace duet::router
