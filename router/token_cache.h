#pragma once
// Verified JWTs, one cache per worker thread (no lock): a client that sends the same token
// on every request costs a hash lookup instead of a signature check. An entry lives until
// the token expires; the worker clears the cache when new keys arrive, so a key removed
// from the JWKS stops its tokens at once.

#include <chrono>
#include <memory>
#include <string_view>

#include "duet/jwt.h"
#include "router/string_map.h"

namespace duet::router {

class TokenCache {
 public:
  explicit TokenCache(std::size_t capacity = 16384) : capacity_(capacity) {}

  // The verdict on `token`. Refusals are not cached (a client retrying a bad token is not
  // the case worth memory); a hit costs a lookup and a reference count, no allocation.
  std::shared_ptr<const jwt::Verdict> verify(const jwt::Verifier& verifier, std::string_view token,
                                             std::chrono::system_clock::time_point now);
  void clear() { entries_.clear(); }
  std::size_t size() const { return entries_.size(); }

 private:
  void make_room(std::chrono::system_clock::time_point now);

  std::size_t capacity_;
  StringMap<std::shared_ptr<const jwt::Verdict>> entries_;
};

}  // namespace duet::router
