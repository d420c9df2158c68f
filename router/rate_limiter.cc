#include "router/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace duet::router {

namespace {
// Buckets that have filled up again say nothing a new bucket would not: dropped when a
// shard grows past this, at most every few seconds, so memory follows active subjects.
constexpr std::size_t kSweepAbove = 1024;
constexpr auto kSweepEvery = std::chrono::seconds(5);
}  // namespace

RateLimiter::RateLimiter(double rate, double burst) : rate_(rate), burst_(std::max(1.0, burst)) {}

std::optional<std::chrono::seconds> RateLimiter::acquire(std::string_view subject,
                                                         Clock::time_point now) {
  Shard& shard = shards_[StringHash{}(subject) % shards_.size()];
  std::lock_guard lock(shard.mutex);
  auto it = shard.buckets.find(subject);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= kSweepAbove) sweep(shard, now);
    it = shard.buckets.emplace(std::string(subject), Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed) * rate_);
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  double wait = (1.0 - b.tokens) / rate_;
  return std::chrono::seconds(std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait))));
}

void RateLimiter::sweep(Shard& shard, Clock::time_point now) {
  if (now - shard.last_sweep < kSweepEvery) return;
  shard.last_sweep = now;
  std::erase_if(shard.buckets, [&](const auto& entry) {
    double elapsed = std::chrono::duration<double>(now - entry.second.updated).count();
    return entry.second.tokens + elapsed * rate_ >= burst_;
  });
}

}  // namespace duet::router
