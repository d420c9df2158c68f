#include "router/prefix_index.h"

#include <algorithm>
#include <cstring>

#include "duet/common/hash.h"

namespace duet::router {

namespace {

// Four independent lanes of eight bytes: one multiply per word and no chain from one word to
// the next across lanes, so the hash keeps up with memcpy (it runs over every prompt a prefix
// policy routes). The lanes are four variables, not an array: GCC kept an array on the stack
// and went through memory for every word (twice as slow).
uint64_t chunk_hash(uint64_t parent, const char* p) {
  constexpr uint64_t k = 0x9e3779b97f4a7c15ull;
  uint64_t a = parent, b = parent ^ 0x5555555555555555ull, c = parent + k, d = parent - k;
  auto mix = [&](uint64_t& lane, const char* at) {
    uint64_t word;
    std::memcpy(&word, at, 8);
    lane = (lane ^ word) * k;
  };
  for (std::size_t i = 0; i < kPrefixChunkBytes; i += 32) {
    mix(a, p + i);
    mix(b, p + i + 8);
    mix(c, p + i + 16);
    mix(d, p + i + 24);
  }
  uint64_t h = spread(a) ^ spread(b + 1) * 3 ^ spread(c + 2) * 5 ^ spread(d + 3) * 7;
  return spread(h) | 1;  // never 0, which marks a free slot
}

constexpr uint64_t kFirstParent = 0x243f6a8885a308d3ull;

}  // namespace

void append_prefix_chunks(std::string_view text, std::vector<uint64_t>& out) {
  PrefixChunker(out).append(text);
}

void PrefixChunker::append(std::string_view piece) {
  while (!piece.empty() && out_.size() < kMaxPrefixChunks) {
    if (pending_size_ == 0 && piece.size() >= kPrefixChunkBytes) {  // a whole chunk in place
      emit(piece.data());
      piece.remove_prefix(kPrefixChunkBytes);
      continue;
    }
    std::size_t n = std::min(piece.size(), kPrefixChunkBytes - pending_size_);
    std::memcpy(pending_.data() + pending_size_, piece.data(), n);
    pending_size_ += n;
    piece.remove_prefix(n);
    if (pending_size_ == kPrefixChunkBytes) {
      emit(pending_.data());
      pending_size_ = 0;
    }
  }
}

void PrefixChunker::emit(const char* chunk) {
  out_.push_back(chunk_hash(out_.empty() ? kFirstParent : out_.back(), chunk));
}

PrefixIndex::PrefixIndex(std::size_t max_entries) : max_entries_(std::max<std::size_t>(max_entries, kShards)) {}

namespace {

// Whether slot `k` of `e` says that `endpoint` holds the chunk still. Counters wrap: the
// difference is taken modulo 2^32, as a signed number (a stamp may be ahead, see record()).
template <class Entry>
bool holds(const Entry& e, std::size_t k, const CacheView& endpoint) {
  return e.ids[k] == endpoint.id &&
         (endpoint.capacity == 0 ||
          static_cast<int64_t>(static_cast<int32_t>(endpoint.written - e.written[k])) < int64_t{endpoint.capacity});
}

}  // namespace

void PrefixIndex::match(std::span<const uint64_t> chunks, std::span<const CacheView> endpoints,
                        std::span<uint32_t> matched) const {
  std::fill(matched.begin(), matched.end(), 0);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    bool advanced = false;
    const Shard& s = shard(chunks[i]);
    std::lock_guard lock(s.mutex);
    auto it = s.entries.find(chunks[i]);
    if (it == s.entries.end()) return;
    for (std::size_t k = 0; k < endpoints.size(); ++k) {
      if (matched[k] != i) continue;  // its run ended earlier
      for (std::size_t slot = 0; slot < kEndpointsPerChunk; ++slot) {
        if (holds(it->second, slot, endpoints[k])) {
          ++matched[k];
          advanced = true;
          break;
        }
      }
    }
    if (!advanced) return;
  }
}

uint32_t PrefixIndex::record(std::span<const uint64_t> chunks, const CacheView& endpoint) {
  uint64_t id = endpoint.id;
  uint32_t added = 0;
  // A prompt's chunks are stamped last to first, as vLLM frees a finished request's blocks
  // tail first: its leading chunks, which later prompts share, are evicted last.
  uint32_t stamp = endpoint.written + static_cast<uint32_t>(chunks.size());
  uint32_t now = clock_.fetch_add(1, std::memory_order_relaxed) + 1;
  std::size_t cap = max_entries_ / kShards;
  for (uint64_t chunk : chunks) {
    Shard& s = shard(chunk);
    std::lock_guard lock(s.mutex);
    auto it = s.entries.find(chunk);
    if (it == s.entries.end()) {
      if (s.entries.size() >= cap) {
        s.entries.erase(s.lru.front());
        s.lru.pop_front();
      }
      it = s.entries.emplace(chunk, Entry{}).first;
      it->second.lru = s.lru.insert(s.lru.end(), chunk);
    } else {
      s.lru.splice(s.lru.end(), s.lru, it->second.lru);
    }
    auto& e = it->second;
    // The endpoint's own slot, else a free one, else the one recorded longest ago.
    std::size_t slot = 0;
    for (std::size_t k = 0; k < kEndpointsPerChunk; ++k) {
      if (e.ids[k] == id) {
        slot = k;
        break;
      }
      if (e.ids[k] == 0 || e.stamps[k] < e.stamps[slot]) slot = k;
      if (e.ids[k] == 0) break;
    }
    if (!holds(e, slot, endpoint)) ++added;  // the engine computes and stores it anew
    e.ids[slot] = id;
    e.stamps[slot] = now;
    e.written[slot] = stamp--;
  }
  return added;
}

std::size_t PrefixIndex::entries() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mutex);
    n += s.entries.size();
  }
  return n;
}

}  // namespace duet::router
