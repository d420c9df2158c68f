#include "router/auth_failure_limiter.h"

#include <algorithm>

namespace duet::router {

namespace {
// A full shard is swept of ended windows at most this often: a flood of new addresses
// costs one pass over the shard a second, not one per request.
constexpr auto kSweepEvery = std::chrono::seconds(1);
}  // namespace

AuthFailureLimiter::AuthFailureLimiter(AuthFailureLimits limits)
    : limits_(limits),
      per_shard_(std::max<std::size_t>(1, limits.max_addresses / kShards)) {}

AuthFailureLimiter::Shard& AuthFailureLimiter::shard_of(std::string_view address) {
  return shards_[StringHash{}(address) % shards_.size()];
}

std::optional<std::chrono::seconds> AuthFailureLimiter::blocked(std::string_view address,
                                                                Clock::time_point now) {
  if (limits_.max_failures == 0) return std::nullopt;
  Shard& shard = shard_of(address);
  std::lock_guard lock(shard.mutex);
  auto it = shard.windows.find(address);
  if (it == shard.windows.end() || it->second.failures < limits_.max_failures) return std::nullopt;
  auto left = it->second.start + limits_.window - now;
  if (left <= Clock::duration::zero()) return std::nullopt;
  auto seconds = std::chrono::ceil<std::chrono::seconds>(left);
  return std::max(seconds, std::chrono::seconds(1));
}

bool AuthFailureLimiter::record_failure(std::string_view address, Clock::time_point now) {
  if (limits_.max_failures == 0) return false;
  Shard& shard = shard_of(address);
  std::lock_guard lock(shard.mutex);
  auto it = shard.windows.find(address);
  if (it == shard.windows.end()) {
    if (!make_room(shard, now)) return false;
    it = shard.windows.emplace(std::string(address), Window{now, 0}).first;
  }
  Window& w = it->second;
  if (now - w.start >= limits_.window) w = {now, 0};
  return ++w.failures == limits_.max_failures;
}

// Whether a new address fits: ended windows are dropped when the shard is full; if it is
// still full (a flood of addresses), the newcomer is not tracked: the bound on memory wins
// over counting one more address.
bool AuthFailureLimiter::make_room(Shard& shard, Clock::time_point now) {
  if (shard.windows.size() < per_shard_) return true;
  if (now - shard.last_sweep < kSweepEvery) return false;
  shard.last_sweep = now;
  std::erase_if(shard.windows,
                [&](const auto& entry) { return now - entry.second.start >= limits_.window; });
  return shard.windows.size() < per_shard_;
}

}  // namespace duet::router
