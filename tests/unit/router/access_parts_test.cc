// The per-worker token cache, the shared rate limiter and the auth failure limiter.

#include <gtest/gtest.h>

#include "router/auth_failure_limiter.h"
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

const std::string kCacheSecret = "cache-test-secret";

// An HS256 token of `secret` for `subject` that expires at `exp`.
std::string token_until(const std::string& secret, const std::string& subject,
                        std::chrono::system_clock::time_point exp) {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(exp.time_since_epoch());
  return jwt::mint_hs256(secret, {{"sub", subject}, {"exp", seconds.count()}});
}

TEST(TokenCache, HitsUntilExpiryAndNeverCachesRefusals) {
  jwt::Verifier verifier({}, {{{}, jwt::Key::Type::hmac, {}, kCacheSecret}});
  auto now = std::chrono::system_clock::now();
  std::string token = token_until(kCacheSecret, "alice", now + 60s);
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

TEST(TokenCache, AnEntryLivesAtMostMaxAgeEvenWithoutExp) {
  std::string secret = "cache-test-secret";
  jwt::Settings lax;
  lax.require_exp = false;
  jwt::Verifier verifier(lax, {{{}, jwt::Key::Type::hmac, {}, secret}});
  std::string token = jwt::mint_hs256(secret, {{"sub", "alice"}});
  auto now = std::chrono::system_clock::now();
  TokenCache cache;
  auto first = cache.verify(verifier, token, now);
  ASSERT_TRUE(first->ok) << first->reason;
  EXPECT_EQ(cache.find(token, now + TokenCache::kMaxAge - 1s), first);
  EXPECT_EQ(cache.find(token, now + TokenCache::kMaxAge), nullptr);  // checked again after
  EXPECT_EQ(cache.size(), 0u);
}

// The cache hashes a token's signature end; a token that shares it, with another payload
// (a forgery), is not the cached one and is verified (and refused) on its own.
TEST(TokenCache, ATokenSharingTheSignatureEndIsNotTheCachedOne) {
  jwt::Verifier verifier({}, {{{}, jwt::Key::Type::hmac, {}, kCacheSecret}});
  auto now = std::chrono::system_clock::now();
  std::string token = token_until(kCacheSecret, "alice", now + 60s);
  TokenCache cache;
  ASSERT_TRUE(cache.verify(verifier, token, now)->ok);
  std::string forged = token_until("another-secret", "mallory", now + 60s);
  forged.replace(forged.size() - 16, 16, token.substr(token.size() - 16));
  EXPECT_EQ(TokenHash{}(forged.substr(forged.size() - 20)), TokenHash{}(token.substr(token.size() - 20)));
  EXPECT_EQ(cache.find(forged, now), nullptr);
  auto verdict = cache.verify(verifier, forged, now);
  EXPECT_FALSE(verdict->ok);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.find(token, now)->subject, "alice");
}

TEST(TokenCache, StaysWithinItsCapacity) {
  std::string secret = "cache-test-secret";
  jwt::Verifier verifier({}, {{{}, jwt::Key::Type::hmac, {}, secret}});
  auto now = std::chrono::system_clock::now();
  auto exp = std::chrono::duration_cast<std::chrono::seconds>((now + 1h).time_since_epoch());
  TokenCache cache(4);
  for (int i = 0; i < 20; ++i) {
    auto token = jwt::mint_hs256(secret, {{"sub", "user-" + std::to_string(i)}, {"exp", exp.count()}});
    ASSERT_TRUE(cache.verify(verifier, token, now)->ok);
    EXPECT_LE(cache.size(), 4u) << i;
  }
}

TEST(AuthFailureLimiter, RefusesAnAddressAfterMaxFailuresUntilItsWindowEnds) {
  AuthFailureLimiter limiter({.max_failures = 3, .window = 10s});
  auto t = std::chrono::steady_clock::now();
  EXPECT_FALSE(limiter.record_failure("10.0.0.1", t));
  EXPECT_FALSE(limiter.record_failure("10.0.0.1", t + 1s));
  EXPECT_FALSE(limiter.blocked("10.0.0.1", t + 1s));
  EXPECT_TRUE(limiter.record_failure("10.0.0.1", t + 2s));  // the one that trips it
  EXPECT_FALSE(limiter.record_failure("10.0.0.1", t + 2s));  // said once, not again
  EXPECT_EQ(limiter.blocked("10.0.0.1", t + 2s), 8s);        // until t + 10 s
  EXPECT_EQ(limiter.blocked("10.0.0.1", t + 9500ms), 1s);
  EXPECT_FALSE(limiter.blocked("10.0.0.2", t + 2s));         // addresses are apart
  EXPECT_FALSE(limiter.blocked("10.0.0.1", t + 10s));        // the window ended
  EXPECT_FALSE(limiter.record_failure("10.0.0.1", t + 10s));  // a new window starts at 1
  EXPECT_FALSE(limiter.blocked("10.0.0.1", t + 10s));
}

TEST(AuthFailureLimiter, TracksABoundedNumberOfAddresses) {
  AuthFailureLimiter limiter({.max_failures = 1, .window = 10s, .max_addresses = 64});
  auto t = std::chrono::steady_clock::now();
  int blocked = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string address = "10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    limiter.record_failure(address, t);
    blocked += limiter.blocked(address, t).has_value();
  }
  EXPECT_GT(blocked, 0);
  EXPECT_LE(blocked, 64);
  // Once those windows end, new addresses are tracked again.
  EXPECT_TRUE(limiter.record_failure("192.0.2.1", t + 11s));
  EXPECT_TRUE(limiter.blocked("192.0.2.1", t + 11s));
}

TEST(AuthFailureLimiter, ZeroMaxFailuresTurnsItOff) {
  AuthFailureLimiter limiter({.max_failures = 0});
  auto t = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(limiter.record_failure("10.0.0.1", t));
  EXPECT_FALSE(limiter.blocked("10.0.0.1", t));
}

}  // namespace
}  // namespace duet::router
