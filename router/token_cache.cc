#include "router/token_cache.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

namespace duet::router {

std::size_t TokenHash::operator()(std::string_view token) const noexcept {
  if (token.size() < 16) return StringHash{}(token);
  std::uint64_t a, b;
  std::memcpy(&a, token.data() + token.size() - 16, 8);
  std::memcpy(&b, token.data() + token.size() - 8, 8);
  // MurmurHash3's 64-bit finalizer over the two words and the length.
  std::uint64_t h = a ^ std::rotl(b, 29) ^ (token.size() * 0x9e3779b97f4a7c15ULL);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return static_cast<std::size_t>(h);
}

std::shared_ptr<const jwt::Verdict> TokenCache::find(std::string_view token,
                                                     Clock::time_point now) {
  auto it = entries_.find(token);
  if (it == entries_.end()) return nullptr;
  if (now < it->second.until) return it->second.verdict;
  entries_.erase(it);  // expired or too old: verify again, which names the reason
  return nullptr;
}

std::shared_ptr<const jwt::Verdict> TokenCache::verify(const jwt::Verifier& verifier,
                                                       std::string_view token,
                                                       Clock::time_point now) {
  if (auto cached = find(token, now)) return cached;
  auto verdict = std::make_shared<const jwt::Verdict>(verifier.verify(token, now));
  if (!verdict->ok) return verdict;
  make_room(now);
  // expires is max() for a token without exp (when that is allowed): kMaxAge bounds it.
  auto until = now + kMaxAge < verdict->expires ? now + kMaxAge : verdict->expires;
  entries_.insert_or_assign(std::string(token), Entry{verdict, until});
  return verdict;
}

// Full: drop what expired; if that is not enough (many live tokens), start over rather than
// track recency on every hit.
void TokenCache::make_room(Clock::time_point now) {
  if (entries_.size() < capacity_) return;
  std::erase_if(entries_, [&](const auto& entry) { return entry.second.until <= now; });
  if (entries_.size() >= capacity_) entries_.clear();
}

}  // namespace duet::router
