#pragma once
// The load signals duet-router schedules on, read from an engine's own Prometheus text
// (/metrics) under the names vLLM (and vLLM-Ascend), SGLang and llama.cpp's server use:
//
// | signal  | vLLM | SGLang | llama.cpp |
// |---------|------|--------|-----------|
// | running | vllm:num_requests_running | sglang:num_running_reqs | llamacpp:requests_processing |
// | waiting | vllm:num_requests_waiting | sglang:num_queue_reqs | llamacpp:requests_deferred |
// | KV used (0..1) | vllm:kv_cache_usage_perc (older: vllm:gpu_cache_usage_perc) | sglang:token_usage | llamacpp:kv_cache_usage_ratio |
// | KV size (tokens) | vllm:cache_config_info's labels num_gpu_blocks × block_size | sglang:max_total_num_tokens | - |
//
// An engine is hostile input like any other: the text is read up to kMaxMetricsBytes, a line
// over kMaxMetricsLine is skipped, a value that is not a finite number >= 0 is ignored, and
// nothing throws. Samples of one name across label sets (several models, TP ranks) are added;
// a KV share is the largest of them.

#include <cstddef>
#include <optional>
#include <string_view>

namespace duet::router {

inline constexpr std::size_t kMaxMetricsBytes = 1 << 20;
inline constexpr std::size_t kMaxMetricsLine = 4096;

struct EngineMetrics {
  std::optional<double> running;
  std::optional<double> waiting;
  std::optional<double> kv_usage;  // 0..1 (a value above 1 counts as 1)
  std::optional<double> kv_capacity_tokens;  // what its KV cache holds, all ranks' largest

  // Whether the text had any signal duet uses (else the engine exports none: MindIE).
  bool any() const { return running || waiting || kv_usage || kv_capacity_tokens; }
};

EngineMetrics parse_engine_metrics(std::string_view text);

}  // namespace duet::router
