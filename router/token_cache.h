#pragma once
// Verified JWTs, one cache per worker thread (no lock): a client that sends the same token
// on every request costs a hash lookup instead of a signature check. An entry lives until
// the token expires or for kMaxAge, whichever comes first (so a token is checked again
// against the keys at least that often), and the worker clears the cache when new keys
// arrive, so a key removed from the JWKS stops its tokens at once.

#include <chrono>
#include <memory>
#include <string_view>

#include "duet/jwt.h"
#include "router/string_map.h"

namespace duet::router {

// A JWT's last 16 bytes are its signature's, which no client chooses and only the key's
// holder can make: hashing them, not all of the token (some 250 bytes, 410 instructions a
// request with std::hash, callgrind), spreads the cached tokens as well. Only verified
// tokens are stored, so a client cannot fill one bucket; a lookup still compares the whole
// token.
struct TokenHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view token) const noexcept;
};

class TokenCache {
 public:
  using Clock = std::chrono::system_clock;
  static constexpr std::chrono::minutes kMaxAge{5};

  explicit TokenCache(std::size_t capacity = 16384) : capacity_(capacity) {}

  // The cached verdict on `token`, null when it is not cached (or no longer valid).
  std::shared_ptr<const jwt::Verdict> find(std::string_view token, Clock::time_point now);
  // The verdict on `token`. Refusals are not cached (a client retrying a bad token is not
  // the case worth memory); a hit costs a lookup and a reference count, no allocation.
  std::shared_ptr<const jwt::Verdict> verify(const jwt::Verifier& verifier, std::string_view token,
                                             Clock::time_point now);
  void clear() { entries_.clear(); }
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::shared_ptr<const jwt::Verdict> verdict;
    Clock::time_point until;  // min(exp + leeway, cached + kMaxAge)
  };

  void make_room(Clock::time_point now);

  std::size_t capacity_;
  StringMap<Entry, TokenHash> entries_;
};

}  // namespace duet::router
