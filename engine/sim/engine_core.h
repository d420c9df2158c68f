#pragma once
// duet-sim's engine model at work (`--profile`): one batch scheduler over one paged KV cache,
// stepping on its own strand. Each step takes the device profile's time (divided by
// --time-scale); when it ends, every sequence that produced a token hears of it on its own
// connection's executor. Thread-safe: requests come from any connection's strand.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <atomic>
#include <functional>
#include <map>
#include <string_view>

#include "sim/model/batch_scheduler.h"
#include "sim/model/device_profile.h"
#include "sim/model/kv_cache.h"

namespace duet::sim {

struct EngineModelOptions {
  model::DeviceProfile device;
  model::KvCacheConfig cache;        // num_blocks 0: what the device holds next to the weights
  model::SchedulerConfig scheduler;
  double time_scale = 1.0;           // > 1 runs the whole clock faster
};

// What one sequence produced in a step.
struct TokenEvent {
  std::string_view text;   // the token's text (static storage)
  uint64_t index = 0;      // 0 for the first token
  uint64_t cached_tokens = 0;  // prompt tokens the prefix cache held
  bool last = false;
  uint32_t id = 0;  // the token's id (return_token_ids)
};

// Counters for /metrics, read from any thread.
struct EngineGauges {
  std::atomic<uint64_t> running{0};
  std::atomic<uint64_t> waiting{0};
  std::atomic<double> kv_usage{0};
  std::atomic<uint64_t> prefix_queries{0};  // prompt tokens looked up
  std::atomic<uint64_t> prefix_hits{0};     // ... found
  std::atomic<uint64_t> preemptions{0};
};

class EngineCore {
 public:
  using OnToken = std::function<void(const TokenEvent&)>;

  EngineCore(boost::asio::io_context& io, EngineModelOptions options);

  // Most tokens one sequence (prompt and answer) may hold: the cache's size.
  std::size_t capacity_tokens() const { return capacity_tokens_; }
  const EngineGauges& gauges() const { return gauges_; }

  // Queues a sequence; `on_token` runs on `reply_to` for each token, the last with `last`.
  // Returns the id to abort() it with.
  uint64_t submit(std::vector<model::TokenId> prompt, std::size_t max_tokens,
                  boost::asio::any_io_executor reply_to, OnToken on_token);
  // The client went away: the sequence stops and its blocks go back. No token event follows
  // once abort() has run on the engine's strand.
  void abort(uint64_t id);

 private:
  struct Waiter {
    boost::asio::any_io_executor reply_to;
    OnToken on_token;
  };

  void kick();
  void run_step();
  void finish_step();
  void publish_gauges();

  EngineModelOptions options_;
  std::size_t capacity_tokens_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer timer_;
  model::KvCache cache_;
  model::BatchScheduler scheduler_;
  model::Step step_;
  bool stepping_ = false;
  std::map<uint64_t, Waiter> waiters_;
  std::atomic<uint64_t> next_id_{1};
  EngineGauges gauges_;
};

// The engine options of a --profile name with its flags; the KV blocks from the device when
// `kv_blocks` is 0. nullopt for an unknown profile.
std::optional<EngineModelOptions> engine_model_options(std::string_view profile, std::size_t block_size,
                                                       std::size_t kv_blocks, bool prefix_caching,
                                                       std::size_t max_num_seqs,
                                                       std::size_t max_num_batched_tokens,
                                                       double time_scale);

}  // namespace duet::sim
