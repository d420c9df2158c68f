#pragma once
// Clients that keep presenting bad tokens: once an address has failed the auth check
// `max_failures` times within `window`, its requests get 429 until the window ends, and
// their tokens are not verified (a guessing client costs a lookup, not a signature check).
// Shared by all worker threads, split over 64 shards with a lock each like RateLimiter;
// the number of addresses tracked is bounded.

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>

#include "router/string_map.h"

namespace duet::router {

struct AuthFailureLimits {
  uint32_t max_failures = 20;  // 0: no limit
  std::chrono::seconds window{10};
  std::size_t max_addresses = 65536;  // beyond, new addresses are not tracked until some expire
};

class AuthFailureLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit AuthFailureLimiter(AuthFailureLimits limits = {});

  const AuthFailureLimits& limits() const { return limits_; }

  // How long `address` stays refused (the Retry-After, whole seconds, at least 1), or
  // nullopt when it is not refused. Any thread.
  std::optional<std::chrono::seconds> blocked(std::string_view address, Clock::time_point now);
  // Counts a failed auth check of `address`; true when this failure is the one that makes it
  // refused (to log once per window, not per request). Any thread.
  bool record_failure(std::string_view address, Clock::time_point now);

 private:
  struct Window {
    Clock::time_point start;
    uint32_t failures = 0;
  };
  struct alignas(64) Shard {
    std::mutex mutex;
    StringMap<Window> windows;
    Clock::time_point last_sweep{};
  };

  Shard& shard_of(std::string_view address);
  bool make_room(Shard& shard, Clock::time_point now);

  AuthFailureLimits limits_;
  std::size_t per_shard_;
  static constexpr std::size_t kShards = 64;
  std::array<Shard, kShards> shards_;
};

}  // namespace duet::router
