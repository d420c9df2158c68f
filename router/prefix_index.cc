#include "router/prefix_index.h"

#include <algorithm>
#include <cstring>

#include "duet/common/hash.h"

namespace duet::router {

namespace {

// Four independent lanes of eight bytes: one multiply per word and no chain from one word to
// the next across lanes, so the hash keeps up with memcpy (it runs over every prompt a prefix
// policy routes).
uint64_t chunk_hash(uint64_t parent, const char* p, std::size_t n) {
  constexpr uint64_t k = 0x9e3779b97f4a7c15ull;
  uint64_t lane[4] = {parent, parent ^ 0x5555555555555555ull, parent + k, parent - k};
  for (std::size_t i = 0; i + 32 <= n; i += 32)
    for (int l = 0; l < 4; ++l) {
      uint64_t word;
      std::memcpy(&word, p + i + 8 * l, 8);
      lane[l] = (lane[l] ^ word) * k;
    }
  uint64_t h = spread(lane[0]) ^ spread(lane[1] + 1) * 3 ^ spread(lane[2] + 2) * 5 ^ spread(lane[3] + 3) * 7;
  return spread(h) | 1;  // never 0, which marks a free slot
}

}  // namespace

void append_prefix_chunks(std::string_view text, std::vector<uint64_t>& out) {
  uint64_t parent = out.empty() ? 0x243f6a8885a308d3ull : out.back();
  for (std::size_t at = 0; at + kPrefixChunkBytes <= text.size() && out.size() < kMaxPrefixChunks;
       at += kPrefixChunkBytes)
    out.push_back(parent = chunk_hash(parent, text.data() + at, kPrefixChunkBytes));
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
