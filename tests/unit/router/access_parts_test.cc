// The per-worker token cache and the shared rate limiter.

#include <gtest/gtest.h>

#include "router/rate_limiter.h"
#include "router/token_cache.h"

namespace duet::router {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, BurstThenTheRateAndRetryAfter) {
  RateLimiter limiter(2, 4);
  auto t = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(limiter.acquire("alice", t)) << i;
  auto wait = limiter.acquire("alice", t);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 1s);
  EXPECT_FALSE(limiter.acquire("bob", t));            // subjects have buckets of their own
  EXPECT_FALSE(limiter.acquire("alice", t + 500ms));  // 2/s: one token after 500 ms
  EXPECT_TRUE(limiter.acquire("alice", t + 500ms));
  RateLimiter slow(0.1, 1);
  EXPECT_FALSE(slow.acquire("x", t));
  EXPECT_EQ(slow.acquire("x", t), 10s);
}

TEST(TokenCache, HitsUntilExpiryAndNeverCachesRefusals) {
  std::string secret = "cache-test-secret";
  jwt::Verifier verifier({}, {{{}, jwt::Key::Type::hmac, {}, secret}});
  auto now = std::chrono::system_clock::now();
  auto exp = std::chrono::duration_cast<std::chrono::seconds>((now + 60s).time_since_epoch());
  std::string token = jwt::mint_hs256(secret, {{"sub", "alice"}, {"exp", exp.count()}});
  TokenCache cache;
  auto first = cache.verify(verifier, token, now);
  ASSERT_TRUE(first->ok);
  EXPECT_EQ(cache.verify(verifier, token, now + 10s), first);  // the same entry
  EXPECT_EQ(cache.size(), 1u);
  auto late = cache.verify(verifier, token, now + 200s);  // past exp + leeway
  EXPECT_FALSE(late->ok);
  EXPECT_EQ(late->reason, "expired");
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.verify(verifier, "garbage", now)->ok);
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace duet::router
