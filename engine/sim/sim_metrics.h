#pragma once
// duet-sim's Prometheus metrics under vLLM's names and `model_name` label, so that the
// router, dashboards and tests read a sim exactly as they would read vLLM.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace duet::sim {

class SimMetrics {
 public:
  // What the load gauges show; read from the slot queue when scraped rather than kept
  // up to date on every request.
  struct Load {
    std::size_t running = 0;
    std::size_t waiting = 0;
    std::size_t limit = 0;  // 0 = unlimited
    // The engine model's (--profile): the KV cache's real usage, its prefix cache's
    // counts in tokens, and preemptions.
    std::optional<double> kv_usage = std::nullopt;
    uint64_t prefix_queries = 0;
    uint64_t prefix_hits = 0;
    uint64_t preemptions = 0;
  };

  explicit SimMetrics(const std::string& model);
  ~SimMetrics();

  void observe_first_token(double seconds);
  // A generation that produced all its tokens; `finish_reason` is "length" or "stop".
  void observe_success(double e2e_seconds, std::string_view finish_reason);
  // A generation stopped because its client went away.
  void observe_abort();
  void add_prompt_tokens(uint64_t n);
  void add_generation_tokens(uint64_t n);
  // The engine model's KV cache, as vLLM tells it: vllm:cache_config_info, value 1, the sizes
  // in labels (the router's prefix index reads them to know what the engine must evict).
  void set_cache_config(std::size_t num_blocks, std::size_t block_size);

  // The Prometheus text exposition, with the load gauges set from `load`.
  std::string render(const Load& load);

  // kv_cache_usage_perc: the share of slots in use. Unlimited concurrency has no capacity
  // to fill, so it reads 0 (vLLM reports a fraction 0..1 under this name too).
  static double kv_cache_usage(const Load& load);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* running_;
  prometheus::Gauge* waiting_;
  prometheus::Gauge* kv_cache_;
  prometheus::Histogram* ttft_;
  prometheus::Histogram* e2e_;
  prometheus::Counter* prompt_tokens_;
  prometheus::Counter* generation_tokens_;
  prometheus::Counter* success_length_;
  prometheus::Counter* success_stop_;
  prometheus::Counter* success_abort_;
  prometheus::Counter* prefix_queries_;
  prometheus::Counter* prefix_hits_;
  prometheus::Counter* preemptions_;
  std::mutex render_mutex_;  // the counters above move by what changed since the last scrape
  Load last_;
};

}  // namespace duet::sim
