#pragma once
// Continuous batching as vLLM's scheduler does it, step by step: running sequences first
// (one token each in decode, the rest of a prompt in chunks), then waiting ones while the
// step's token budget, the sequence limit and free KV blocks allow. When a running sequence
// finds no block for its next token, the newest running one is preempted: its blocks go back
// and it waits again at the head of the queue, to be recomputed (prefix caching often finds
// most of it still there).
//
// The caller runs a step: schedule(), let the step's time pass, complete(). Pure state: no
// clock, no I/O, so tests drive it by hand.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "sim/model/kv_cache.h"

namespace duet::sim::model {

struct SchedulerConfig {
  std::size_t max_num_seqs = 256;             // vLLM's default
  std::size_t max_num_batched_tokens = 8192;  // tokens computed in one step, all sequences
};

struct Sequence {
  uint64_t id = 0;
  std::vector<TokenId> tokens;  // the prompt, then what was generated
  std::size_t prompt_tokens = 0;
  std::size_t max_new_tokens = 1;
  std::size_t computed = 0;        // tokens whose KV is in the cache
  std::size_t cached_tokens = 0;   // of the prompt, found by the prefix cache when first run
  bool first_scheduled = false;
  int preemptions = 0;
  std::vector<BlockHash> prompt_hashes;  // of tokens as they were when it last waited
  KvBlocks kv;

  std::size_t generated() const { return tokens.size() - prompt_tokens; }
  bool done() const { return generated() >= max_new_tokens; }
};

// One step: how many tokens of which sequences are computed.
struct Step {
  struct Work {
    uint64_t id;
    std::size_t tokens;    // computed in this step
    std::size_t context;   // tokens of the sequence in the cache once it is done
  };
  std::vector<Work> work;
  std::size_t prefill_tokens = 0;  // tokens of prompts (or recomputation) in this step
  std::size_t decode_seqs = 0;     // sequences computing their one next token
  std::size_t context_tokens = 0;  // KV read by the step, all sequences
  std::vector<uint64_t> preempted;
  bool empty() const { return work.empty(); }
};

// What a completed step produced for one sequence.
struct Emitted {
  uint64_t id;
  TokenId token;
  std::size_t index;          // 0 for the sequence's first token
  std::size_t cached_tokens;  // of its prompt, found by the prefix cache
  bool finished;
};

class BatchScheduler {
 public:
  // `next_token`: the sequence's next token from all its tokens so far.
  BatchScheduler(SchedulerConfig config, KvCache& cache,
                 std::function<TokenId(const std::vector<TokenId>&)> next_token);

  // Queues a request; ids are the caller's, unique among live sequences.
  void add(uint64_t id, std::vector<TokenId> prompt, std::size_t max_new_tokens);
  // Drops a sequence wherever it is (a client that went away); its blocks go back.
  void abort(uint64_t id);

  Step schedule();
  // The step's time has passed: sequences advance; each that reached the end of its tokens
  // gets one new token. Finished sequences are removed and their blocks freed.
  std::vector<Emitted> complete(const Step& step);

  const Sequence* find(uint64_t id) const;
  std::size_t running() const { return running_.size(); }
  std::size_t waiting() const { return waiting_.size(); }
  uint64_t preemptions() const { return preemptions_; }

 private:
  // Blocks for `tokens` more of `seq`; preempts the newest running sequences (never `seq`
  // itself) until they fit. False when even that is not enough.
  bool make_room(Sequence& seq, std::size_t tokens, Step& step);
  void preempt(uint64_t id, Step& step);

  SchedulerConfig config_;
  KvCache& cache_;
  std::function<TokenId(const std::vector<TokenId>&)> next_token_;
  std::map<uint64_t, std::unique_ptr<Sequence>> sequences_;
  std::vector<uint64_t> running_;  // oldest first
  std::deque<uint64_t> waiting_;
  uint64_t preemptions_ = 0;
};

}  // namespace duet::sim::model
