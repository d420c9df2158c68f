#include "sim/model/batch_scheduler.h"

#include <algorithm>

namespace duet::sim::model {

BatchScheduler::BatchScheduler(SchedulerConfig config, KvCache& cache,
                               std::function<TokenId(const std::vector<TokenId>&)> next_token)
    : config_(config), cache_(cache), next_token_(std::move(next_token)) {}

void BatchScheduler::add(uint64_t id, std::vector<TokenId> prompt, std::size_t max_new_tokens) {
  auto seq = std::make_unique<Sequence>();
  seq->id = id;
  seq->prompt_tokens = prompt.size();
  seq->tokens = std::move(prompt);
  seq->max_new_tokens = std::max<std::size_t>(max_new_tokens, 1);
  seq->prompt_hashes = block_hashes(seq->tokens, cache_.config().block_size);
  sequences_[id] = std::move(seq);
  waiting_.push_back(id);
}

void BatchScheduler::abort(uint64_t id) {
  auto it = sequences_.find(id);
  if (it == sequences_.end()) return;
  cache_.free(it->second->kv);
  std::erase(running_, id);
  std::erase(waiting_, id);
  sequences_.erase(it);
}

const Sequence* BatchScheduler::find(uint64_t id) const {
  auto it = sequences_.find(id);
  return it == sequences_.end() ? nullptr : it->second.get();
}

void BatchScheduler::preempt(uint64_t id, Step& step) {
  auto& seq = *sequences_.at(id);
  cache_.free(seq.kv);
  seq.computed = 0;
  ++seq.preemptions;
  ++preemptions_;
  // What it generated is recomputed with its prompt; the prefix cache may still hold it.
  seq.prompt_hashes = block_hashes(seq.tokens, cache_.config().block_size);
  std::erase(running_, id);
  waiting_.push_front(id);
  step.preempted.push_back(id);
  std::erase_if(step.work, [&](const Step::Work& w) { return w.id == id; });
}

bool BatchScheduler::make_room(Sequence& seq, std::size_t tokens, Step& step) {
  while (!cache_.allocate(seq.kv, seq.prompt_hashes, 0, seq.computed + tokens)) {
    if (running_.empty() || running_.back() == seq.id) return false;
    preempt(running_.back(), step);
  }
  return true;
}

Step BatchScheduler::schedule() {
  Step step;
  std::size_t budget = config_.max_num_batched_tokens;
  // Running sequences, oldest first: each computes what it lacks (1 token in decode).
  for (std::size_t i = 0; i < running_.size() && budget > 0; ++i) {
    auto& seq = *sequences_.at(running_[i]);
    std::size_t tokens = std::min(seq.tokens.size() - seq.computed, budget);
    if (tokens == 0) continue;
    if (!make_room(seq, tokens, step)) {
      preempt(seq.id, step);  // nothing newer to take from: it waits itself
      break;
    }
    // A preemption may have removed sequences behind this one, never before it.
    step.work.push_back({seq.id, tokens, seq.computed + tokens});
    budget -= tokens;
  }
  // Then waiting ones, in order, while they fit; none jumps the queue.
  while (!waiting_.empty() && budget > 0 && running_.size() < config_.max_num_seqs && step.preempted.empty()) {
    auto& seq = *sequences_.at(waiting_.front());
    std::size_t cached = cache_.lookup(seq.prompt_hashes, seq.tokens.size());
    std::size_t tokens = std::min(seq.tokens.size() - cached, budget);
    if (!cache_.allocate(seq.kv, seq.prompt_hashes, cached, cached + tokens)) break;
    seq.computed = cached;
    if (!seq.first_scheduled) {  // counted once: not each step it waited, not its recomputation
      seq.cached_tokens = std::min(cached, seq.prompt_tokens);
      seq.first_scheduled = true;
      cache_.record_query(seq.tokens.size(), cached);
    }
    waiting_.pop_front();
    running_.push_back(seq.id);
    step.work.push_back({seq.id, tokens, seq.computed + tokens});
    budget -= tokens;
  }
  for (const auto& w : step.work) {
    const auto& seq = *sequences_.at(w.id);
    bool decode = w.tokens == 1 && seq.computed + 1 == seq.tokens.size() && seq.generated() > 0;
    if (decode)
      ++step.decode_seqs;
    else
      step.prefill_tokens += w.tokens;
    step.context_tokens += w.context;
  }
  return step;
}

std::vector<Emitted> BatchScheduler::complete(const Step& step) {
  std::vector<Emitted> out;
  for (const auto& w : step.work) {
    auto it = sequences_.find(w.id);
    if (it == sequences_.end()) continue;  // aborted while the step ran
    auto& seq = *it->second;
    seq.computed += w.tokens;
    cache_.cache_full_blocks(seq.kv, seq.tokens, seq.computed);
    if (seq.computed < seq.tokens.size()) continue;  // a prompt chunk: no token yet
    TokenId token = next_token_(seq.tokens);
    seq.tokens.push_back(token);
    bool finished = seq.done();
    out.push_back({seq.id, token, seq.generated() - 1, seq.cached_tokens, finished});
    if (finished) abort(seq.id);
  }
  return out;
}

}  // namespace duet::sim::model
