#include "sim/sim_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace duet::sim {

namespace {

// vLLM's buckets, so histograms from a sim and from vLLM can be compared.
const prometheus::Histogram::BucketBoundaries kTtftBuckets = {
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,  0.25,  0.5,   0.75,
    1.0,   2.5,   5.0,  7.5,  10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
const prometheus::Histogram::BucketBoundaries kE2eBuckets = {
    0.3,  0.5,  0.8,  1.0,  1.5,   2.0,   2.5,   5.0,   10.0,   15.0,  20.0,
    30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};

}  // namespace

SimMetrics::SimMetrics(const std::string& model)
    : registry_(std::make_shared<prometheus::Registry>()) {
  const prometheus::Labels labels = {{"model_name", model}};
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_).Add(labels);
  };
  auto counter = [&](const char* name,
                     const char* help) -> prometheus::Family<prometheus::Counter>& {
    return prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
  };
  auto histogram = [&](const char* name, const char* help, const auto& buckets) {
    return &prometheus::BuildHistogram()
                .Name(name)
                .Help(help)
                .Register(*registry_)
                .Add(labels, buckets);
  };
  running_ = gauge("vllm:num_requests_running", "Number of requests generating now.");
  waiting_ = gauge("vllm:num_requests_waiting", "Number of requests waiting for a slot.");
  kv_cache_ = gauge("vllm:kv_cache_usage_perc",
                    "KV-cache blocks in use (0..1); without the engine model, concurrency slots.");
  ttft_ = histogram("vllm:time_to_first_token_seconds", "Time to first token, queueing included.",
                    kTtftBuckets);
  e2e_ = histogram("vllm:e2e_request_latency_seconds", "Arrival to last token.", kE2eBuckets);
  prompt_tokens_ =
      &counter("vllm:prompt_tokens_total", "Prompt tokens of started requests.").Add(labels);
  generation_tokens_ = &counter("vllm:generation_tokens_total", "Tokens generated.").Add(labels);
  auto& success = counter("vllm:request_success_total", "Finished requests by finish reason.");
  auto with_reason = [&](const char* reason) {
    return &success.Add({{"model_name", model}, {"finished_reason", reason}});
  };
  success_length_ = with_reason("length");
  success_stop_ = with_reason("stop");
  success_abort_ = with_reason("abort");
  prefix_queries_ = &counter("vllm:prefix_cache_queries_total", "Prompt tokens looked up in the prefix cache.").Add(labels);
  prefix_hits_ = &counter("vllm:prefix_cache_hits_total", "Prompt tokens found in the prefix cache.").Add(labels);
  preemptions_ = &counter("vllm:num_preemptions_total", "Sequences preempted for want of KV blocks.").Add(labels);
}

SimMetrics::~SimMetrics() = default;

void SimMetrics::observe_first_token(double seconds) { ttft_->Observe(seconds); }

void SimMetrics::observe_success(double e2e_seconds, std::string_view finish_reason) {
  e2e_->Observe(e2e_seconds);
  (finish_reason == "stop" ? success_stop_ : success_length_)->Increment();
}

void SimMetrics::observe_abort() { success_abort_->Increment(); }

void SimMetrics::add_prompt_tokens(uint64_t n) {
  prompt_tokens_->Increment(static_cast<double>(n));
}

void SimMetrics::add_generation_tokens(uint64_t n) {
  generation_tokens_->Increment(static_cast<double>(n));
}

void SimMetrics::set_cache_config(std::size_t num_blocks, std::size_t block_size) {
  prometheus::BuildGauge()
      .Name("vllm:cache_config_info")
      .Help("Information of the KV cache configuration.")
      .Register(*registry_)
      .Add({{"block_size", std::to_string(block_size)}, {"num_gpu_blocks", std::to_string(num_blocks)}})
      .Set(1);
}

double SimMetrics::kv_cache_usage(const Load& load) {
  if (load.kv_usage) return *load.kv_usage;
  if (load.limit == 0) return 0;
  return static_cast<double>(load.running) / static_cast<double>(load.limit);
}

std::string SimMetrics::render(const Load& load) {
  running_->Set(static_cast<double>(load.running));
  waiting_->Set(static_cast<double>(load.waiting));
  kv_cache_->Set(kv_cache_usage(load));
  {
    std::lock_guard lock(render_mutex_);
    for (auto [counter, now, before] : {std::tuple{prefix_queries_, load.prefix_queries, last_.prefix_queries},
                                        {prefix_hits_, load.prefix_hits, last_.prefix_hits},
                                        {preemptions_, load.preemptions, last_.preemptions}})
      if (now > before) counter->Increment(static_cast<double>(now - before));
    last_ = load;
  }
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace duet::sim
