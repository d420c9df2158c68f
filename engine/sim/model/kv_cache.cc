#include "sim/model/kv_cache.h"

#include <algorithm>
#include <stdexcept>

namespace duet::sim::model {

namespace {

constexpr BlockHash kChainSeed = 0x9e3779b97f4a7c15ull;

BlockHash mix(BlockHash h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

BlockHash chain(BlockHash parent, const TokenId* tokens, std::size_t n) {
  BlockHash h = mix(parent, n);
  for (std::size_t i = 0; i < n; ++i) h = mix(h, tokens[i]);
  return h;
}

}  // namespace

std::vector<BlockHash> block_hashes(const std::vector<TokenId>& tokens, std::size_t block_size) {
  std::vector<BlockHash> out;
  BlockHash parent = kChainSeed;
  for (std::size_t start = 0; start + block_size <= tokens.size(); start += block_size)
    out.push_back(parent = chain(parent, tokens.data() + start, block_size));
  return out;
}

KvCache::KvCache(KvCacheConfig config) : config_(config), blocks_(config.num_blocks) {
  if (config_.block_size == 0 || config_.num_blocks == 0)
    throw std::invalid_argument("block size and block count must be positive");
  free_list_.reserve(config_.num_blocks);
  for (std::size_t i = config_.num_blocks; i-- > 0;) free_list_.push_back(static_cast<BlockId>(i));
}

double KvCache::usage() const { return static_cast<double>(used_) / static_cast<double>(config_.num_blocks); }

std::size_t KvCache::cached_run(const std::vector<BlockHash>& hashes, std::size_t limit) const {
  std::size_t n = 0;
  while (n < hashes.size() && n < limit && by_hash_.count(hashes[n])) ++n;
  return n;
}

std::size_t KvCache::lookup(const std::vector<BlockHash>& prompt_hashes, std::size_t prompt_tokens) const {
  if (!config_.prefix_caching || prompt_tokens == 0) return 0;
  return cached_run(prompt_hashes, (prompt_tokens - 1) / config_.block_size) * config_.block_size;
}

void KvCache::record_query(std::size_t prompt_tokens, std::size_t hit_tokens) {
  if (!config_.prefix_caching) return;
  query_tokens_ += prompt_tokens;
  hit_tokens_ += hit_tokens;
}

bool KvCache::allocate(KvBlocks& seq, const std::vector<BlockHash>& prompt_hashes,
                       std::size_t cached_tokens, std::size_t total_tokens) {
  std::size_t reuse = seq.blocks.empty() ? cached_tokens / config_.block_size : 0;
  reuse = cached_run(prompt_hashes, reuse);  // what lookup found may be gone since
  std::size_t wanted = (total_tokens + config_.block_size - 1) / config_.block_size;
  std::size_t have = seq.blocks.size() + reuse;
  std::size_t fresh = wanted > have ? wanted - have : 0;
  // Reused blocks that sit unreferenced are not there for fresh ones too.
  std::size_t reuse_idle = 0;
  for (std::size_t i = 0; i < reuse; ++i)
    reuse_idle += blocks_[by_hash_.at(prompt_hashes[i])].refs == 0 ? 1 : 0;
  if (fresh + reuse_idle > free_blocks()) return false;
  for (std::size_t i = 0; i < reuse; ++i) {
    BlockId id = by_hash_.at(prompt_hashes[i]);
    reference(id);
    seq.blocks.push_back(id);
    seq.hashed = i + 1;
    seq.last_hash = prompt_hashes[i];
  }
  for (std::size_t i = 0; i < fresh; ++i) {
    BlockId id = take_fresh();
    reference(id);
    seq.blocks.push_back(id);
  }
  return true;
}

void KvCache::reference(BlockId id) {
  auto& b = blocks_[id];
  if (b.refs++ == 0) {
    ++used_;
    if (b.hash) evictable_.erase(b.lru);
  }
}

BlockId KvCache::take_fresh() {
  if (!free_list_.empty()) {
    BlockId id = free_list_.back();
    free_list_.pop_back();
    return id;
  }
  BlockId id = evictable_.front();
  evictable_.pop_front();
  auto& b = blocks_[id];
  if (auto it = by_hash_.find(*b.hash); it != by_hash_.end() && it->second == id) by_hash_.erase(it);
  b.hash.reset();
  return id;
}

void KvCache::cache_full_blocks(KvBlocks& seq, const std::vector<TokenId>& tokens, std::size_t computed) {
  std::size_t full = std::min(computed, tokens.size()) / config_.block_size;
  full = std::min(full, seq.blocks.size());
  if (seq.hashed == 0) seq.last_hash = kChainSeed;
  for (std::size_t i = seq.hashed; i < full; ++i) {
    seq.last_hash = chain(seq.last_hash, tokens.data() + i * config_.block_size, config_.block_size);
    auto& b = blocks_[seq.blocks[i]];
    // A block whose contents another block already holds stays unnamed: one copy is found.
    if (config_.prefix_caching && !b.hash && !by_hash_.count(seq.last_hash)) {
      b.hash = seq.last_hash;
      by_hash_[seq.last_hash] = seq.blocks[i];
    }
  }
  seq.hashed = std::max(seq.hashed, full);
}

void KvCache::free(KvBlocks& seq) {
  // Tail first into the queue, so that the tail is reused before the shared head.
  for (auto it = seq.blocks.rbegin(); it != seq.blocks.rend(); ++it) {
    auto& b = blocks_[*it];
    if (--b.refs != 0) continue;
    --used_;
    if (b.hash)
      b.lru = evictable_.insert(evictable_.end(), *it);
    else
      free_list_.push_back(*it);
  }
  seq = {};
}

}  // namespace duet::sim::model
