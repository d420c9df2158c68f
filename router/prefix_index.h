#pragma once
// Which endpoints served which prompt prefixes lately: the router's view of the engines'
// prefix caches, for prefix-affinity scheduling (docs/scheduling.md). A prompt's text is cut
// into 256-byte chunks, each named by a hash chained to the one before (prefix_chunks()), so
// a chunk stands for everything up to its end, as a KV block's hash does in vLLM. No
// tokenizer is needed, and equal text gives equal chunks whatever the engine.
//
// Eviction-aware: an engine's cache holds only so much. Each endpoint counts the chunks
// recorded on it that it did not hold (what its engine had to compute and store); a chunk
// recorded on it more than its cache's size of such chunks ago is taken as evicted, as the
// engine's LRU would have done, and no longer attracts requests. The size comes from the
// engine's /metrics (engine_metrics.h); without it nothing is taken as evicted.
//
// Shared by every worker thread: 32 shards, each with its own lock held for one lookup, so no
// lock on the request path is one that all workers wait on. Bounded: at most `max_entries`
// chunks, the least recently used forgotten first; each chunk remembers up to 4 endpoints.

#include <array>
#include <atomic>
#include <cstdint>
#include <list>
#include <mutex>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace duet::router {

// 256 bytes is about 64 tokens: a few KV blocks of 16.
inline constexpr std::size_t kPrefixChunkBytes = 256;
inline constexpr double kTokensPerPrefixChunk = 64;
// A prompt's chunks beyond this many (64 KiB) are not looked at.
inline constexpr std::size_t kMaxPrefixChunks = 256;

// The chained hashes of the full 256-byte chunks of `text`.
void append_prefix_chunks(std::string_view text, std::vector<uint64_t>& out);

// The same for a text that comes in pieces (a chat's roles and contents), without joining
// them: whole chunks are hashed where they lie, and only a chunk that spans two pieces is
// copied. The chunks are those of the pieces' concatenation; past kMaxPrefixChunks in `out`,
// the rest is ignored.
class PrefixChunker {
 public:
  explicit PrefixChunker(std::vector<uint64_t>& out) : out_(out) {}
  void append(std::string_view piece);

 private:
  void emit(const char* chunk);

  std::vector<uint64_t>& out_;
  std::array<char, kPrefixChunkBytes> pending_;
  std::size_t pending_size_ = 0;
};

// An endpoint as the index sees its cache.
struct CacheView {
  uint64_t id = 0;         // EndpointLoad::id
  uint32_t written = 0;    // chunks recorded on it that it did not hold, so far
  uint32_t capacity = 0;   // chunks its cache holds; 0: unknown, nothing is taken as evicted
};

class PrefixIndex {
 public:
  explicit PrefixIndex(std::size_t max_entries = 100'000);

  // For each endpoint of `endpoints`, how many of the leading `chunks` it still holds
  // (written to `matched`, same length as `endpoints`).
  void match(std::span<const uint64_t> chunks, std::span<const CacheView> endpoints,
             std::span<uint32_t> matched) const;
  // `endpoint` now holds `chunks` (it was picked for a prompt with them). Returns how many of
  // them it did not hold before: the caller adds them to its `written`.
  uint32_t record(std::span<const uint64_t> chunks, const CacheView& endpoint);

  std::size_t entries() const;
  std::size_t max_entries() const { return max_entries_; }
  // Memory one chunk takes at most (its entry, its hash-table node and its LRU node).
  static constexpr std::size_t bytes_per_entry() { return sizeof(Entry) + 4 * sizeof(void*) + sizeof(uint64_t) * 2; }

 private:
  static constexpr std::size_t kShards = 32;
  static constexpr std::size_t kEndpointsPerChunk = 4;
  struct Entry {
    std::array<uint64_t, kEndpointsPerChunk> ids{};  // 0: free slot
    std::array<uint32_t, kEndpointsPerChunk> stamps{};   // the index's clock: which slot to reuse
    std::array<uint32_t, kEndpointsPerChunk> written{};  // the endpoint's `written` then
    std::list<uint64_t>::iterator lru;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<uint64_t, Entry> entries;
    std::list<uint64_t> lru;  // front: least recently recorded
  };
  // By high bits: the lowest is always 1 (0 marks a free slot).
  Shard& shard(uint64_t chunk) { return shards_[(chunk >> 40) % kShards]; }
  const Shard& shard(uint64_t chunk) const { return shards_[(chunk >> 40) % kShards]; }

  std::size_t max_entries_;
  std::array<Shard, kShards> shards_;
  std::atomic<uint32_t> clock_{0};
};

}  // namespace duet::router
