#include "sim/engine_core.h"

#include <boost/asio/post.hpp>

#include "sim/model/answer_words.h"

namespace duet::sim {

namespace asio = boost::asio;

std::optional<EngineModelOptions> engine_model_options(std::string_view profile, std::size_t block_size,
                                                       std::size_t kv_blocks, bool prefix_caching,
                                                       std::size_t max_num_seqs,
                                                       std::size_t max_num_batched_tokens,
                                                       double time_scale) {
  auto device = model::find_profile(profile);
  if (!device) return std::nullopt;
  EngineModelOptions o;
  o.device = *device;
  o.cache.block_size = block_size;
  o.cache.num_blocks = kv_blocks ? kv_blocks : model::kv_capacity_tokens(*device, model::ModelShape{}) / block_size;
  o.cache.prefix_caching = prefix_caching;
  o.scheduler = {max_num_seqs, max_num_batched_tokens};
  o.time_scale = time_scale;
  return o;
}

EngineCore::EngineCore(asio::io_context& io, EngineModelOptions options)
    : options_(std::move(options)),
      capacity_tokens_(options_.cache.block_size * options_.cache.num_blocks),
      strand_(asio::make_strand(io)),
      timer_(strand_),
      cache_(options_.cache),
      scheduler_(options_.scheduler, cache_, model::next_token) {}

uint64_t EngineCore::submit(std::vector<model::TokenId> prompt, std::size_t max_tokens,
                            asio::any_io_executor reply_to, OnToken on_token) {
  uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  asio::post(strand_, [this, id, prompt = std::move(prompt), max_tokens, reply_to = std::move(reply_to),
                       on_token = std::move(on_token)]() mutable {
    waiters_[id] = {std::move(reply_to), std::move(on_token)};
    scheduler_.add(id, std::move(prompt), max_tokens);
    publish_gauges();
    kick();
  });
  return id;
}

void EngineCore::abort(uint64_t id) {
  asio::post(strand_, [this, id] {
    waiters_.erase(id);
    scheduler_.abort(id);
    publish_gauges();
  });
}

void EngineCore::kick() {
  if (!stepping_) run_step();
}

void EngineCore::run_step() {
  step_ = scheduler_.schedule();
  publish_gauges();
  if (step_.empty()) {
    stepping_ = false;  // idle until the next submit (a prompt that can never fit is refused before)
    return;
  }
  stepping_ = true;
  auto took = model::step_time(options_.device, model::ModelShape{}, step_.prefill_tokens + step_.decode_seqs,
                               step_.context_tokens);
  timer_.expires_after(std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(took.count()) /
                                                                     options_.time_scale)));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) finish_step();
  });
}

void EngineCore::finish_step() {
  for (const auto& e : scheduler_.complete(step_)) {
    auto it = waiters_.find(e.id);
    if (it == waiters_.end()) continue;
    TokenEvent event{model::answer_text(e.token), e.index, e.cached_tokens, e.finished, e.token};
    asio::post(it->second.reply_to, [on_token = it->second.on_token, event] { on_token(event); });
    if (e.finished) waiters_.erase(it);
  }
  run_step();
}

void EngineCore::publish_gauges() {
  gauges_.running.store(scheduler_.running(), std::memory_order_relaxed);
  gauges_.waiting.store(scheduler_.waiting(), std::memory_order_relaxed);
  gauges_.kv_usage.store(cache_.usage(), std::memory_order_relaxed);
  gauges_.prefix_queries.store(cache_.query_tokens(), std::memory_order_relaxed);
  gauges_.prefix_hits.store(cache_.hit_tokens(), std::memory_order_relaxed);
  gauges_.preemptions.store(scheduler_.preemptions(), std::memory_order_relaxed);
}

}  // namespace duet::sim
