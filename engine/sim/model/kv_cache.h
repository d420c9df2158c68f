#pragma once
// A paged KV cache with automatic prefix caching, as vLLM's block manager keeps it: memory
// is `num_blocks` blocks of `block_size` tokens; a full block is known by the hash of its
// tokens chained to the hash of the block before it, so equal prefixes share blocks. A block
// no sequence uses keeps its contents until it is needed for something else, least recently
// freed first; within one sequence the tail goes before the head, so that the shared head
// of a conversation stays longest.

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <unordered_map>
#include <vector>

#include "sim/model/tokenizer.h"

namespace duet::sim::model {

using BlockId = uint32_t;
using BlockHash = uint64_t;

// The hash chain of the full blocks of `tokens`.
std::vector<BlockHash> block_hashes(const std::vector<TokenId>& tokens, std::size_t block_size);

struct KvCacheConfig {
  std::size_t block_size = 16;  // vLLM's default; Ascend deployments use 128
  std::size_t num_blocks = 1024;
  bool prefix_caching = true;
};

// The blocks one sequence holds, in token order.
struct KvBlocks {
  std::vector<BlockId> blocks;
  std::size_t hashed = 0;      // leading blocks whose hash is known (full and computed)
  BlockHash last_hash = 0;     // the hash of block hashed-1 (the chain goes on from it)
};

class KvCache {
 public:
  explicit KvCache(KvCacheConfig config);

  const KvCacheConfig& config() const { return config_; }

  // How many leading tokens of a prompt with these block hashes are in the cache now, in
  // whole blocks; at most `prompt_tokens - 1`, since the last prompt token is always
  // computed (its output is the first answer token). Counts nothing: see record_query.
  std::size_t lookup(const std::vector<BlockHash>& prompt_hashes, std::size_t prompt_tokens) const;
  // Counts a prompt's lookup in query_tokens and hit_tokens. The scheduler calls it once per
  // request, when the request is first admitted, as vLLM does since it stopped counting every
  // retry of a waiting request (vllm#48860) and the recomputation of a preempted one
  // (vllm#25787). Nothing is counted without prefix caching, as in vLLM.
  void record_query(std::size_t prompt_tokens, std::size_t hit_tokens);

  // Gives `seq` blocks for `total_tokens` tokens in all. An empty `seq` first takes the
  // `cached_tokens` (from lookup) worth of cached blocks. False, with nothing taken, when
  // too few blocks are free.
  bool allocate(KvBlocks& seq, const std::vector<BlockHash>& prompt_hashes, std::size_t cached_tokens,
                std::size_t total_tokens);

  // Once `tokens` of the sequence are computed: its newly full blocks become findable.
  void cache_full_blocks(KvBlocks& seq, const std::vector<TokenId>& tokens, std::size_t computed);

  // The sequence's blocks go back; cached ones stay findable until reused.
  void free(KvBlocks& seq);

  std::size_t num_blocks() const { return config_.num_blocks; }
  // Blocks a running sequence holds.
  std::size_t used_blocks() const { return used_; }
  // Blocks a new allocation may take: never used, or cached and unreferenced.
  std::size_t free_blocks() const { return free_list_.size() + evictable_.size(); }
  // used / all, vLLM's kv_cache_usage_perc (as a fraction).
  double usage() const;
  std::size_t cached_blocks() const { return by_hash_.size(); }

  // Prompt tokens looked up and found (vllm:prefix_cache_queries/hits, in tokens).
  uint64_t query_tokens() const { return query_tokens_; }
  uint64_t hit_tokens() const { return hit_tokens_; }

 private:
  struct Block {
    uint32_t refs = 0;
    std::optional<BlockHash> hash;
    std::list<BlockId>::iterator lru;  // valid while unreferenced and hashed
  };

  // A block for new tokens: a never-used one, else the least recently freed cached one.
  BlockId take_fresh();
  void reference(BlockId id);
  // How many of `hashes`' blocks are cached, from the first.
  std::size_t cached_run(const std::vector<BlockHash>& hashes, std::size_t limit) const;

  KvCacheConfig config_;
  std::vector<Block> blocks_;
  std::vector<BlockId> free_list_;  // unreferenced, no contents worth keeping
  std::list<BlockId> evictable_;    // unreferenced, cached; front goes first
  std::unordered_map<BlockHash, BlockId> by_hash_;
  std::size_t used_ = 0;
  uint64_t query_tokens_ = 0;
  uint64_t hit_tokens_ = 0;
};

}  // namespace duet::sim::model
