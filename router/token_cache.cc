#include "router/token_cache.h"

namespace duet::router {

std::shared_ptr<const jwt::Verdict> TokenCache::verify(const jwt::Verifier& verifier,
                                                       std::string_view token,
                                                       std::chrono::system_clock::time_point now) {
  if (auto it = entries_.find(token); it != entries_.end()) {
    if (now < it->second->expires) return it->second;
    entries_.erase(it);  // expired: verify again, which names the reason
  }
  auto verdict = std::make_shared<const jwt::Verdict>(verifier.verify(token, now));
  if (!verdict->ok) return verdict;
  make_room(now);
  entries_.insert_or_assign(std::string(token), verdict);
  return verdict;
}

// Full: drop what expired; if that is not enough (many live tokens), start over rather than
// track recency on every hit.
void TokenCache::make_room(std::chrono::system_clock::time_point now) {
  if (entries_.size() < capacity_) return;
  std::erase_if(entries_, [&](const auto& entry) { return entry.second->expires <= now; });
  if (entries_.size() >= capacity_) entries_.clear();
}

}  // namespace duet::router
