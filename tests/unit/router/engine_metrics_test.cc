// Engines' /metrics text as duet-router reads it for scheduling: the three engines' names,
// several label sets, and text a broken or hostile engine might send.
#include "router/engine_metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace duet::router {
namespace {

TEST(EngineMetrics, ReadsVllmSglangAndLlamaCppNames) {
  auto vllm = parse_engine_metrics(
      "# HELP vllm:num_requests_running Number of requests currently running.\n"
      "# TYPE vllm:num_requests_running gauge\n"
      "vllm:num_requests_running{model_name=\"m\"} 3.0\n"
      "vllm:num_requests_waiting{model_name=\"m\"} 7.0\n"
      "vllm:kv_cache_usage_perc{model_name=\"m\"} 0.42\n"
      "vllm:prompt_tokens_total{model_name=\"m\"} 1.2e+06\n");
  EXPECT_EQ(vllm.running, 3.0);
  EXPECT_EQ(vllm.waiting, 7.0);
  EXPECT_EQ(vllm.kv_usage, 0.42);
  auto sglang = parse_engine_metrics("sglang:num_running_reqs{model_name=\"x\"} 2\nsglang:num_queue_reqs{model_name=\"x\"} 5\n"
                                     "sglang:token_usage{model_name=\"x\"} 0.28\n");
  EXPECT_EQ(sglang.running, 2.0);
  EXPECT_EQ(sglang.waiting, 5.0);
  EXPECT_EQ(sglang.kv_usage, 0.28);
  auto llama = parse_engine_metrics("llamacpp:requests_processing 1\r\nllamacpp:requests_deferred 4\r\n"
                                    "llamacpp:kv_cache_usage_ratio 0.5");  // CRLF, no final newline
  EXPECT_EQ(llama.running, 1.0);
  EXPECT_EQ(llama.waiting, 4.0);
  EXPECT_EQ(llama.kv_usage, 0.5);
  EXPECT_FALSE(parse_engine_metrics("mindie_requests 3\n").any());  // an engine duet cannot read
}

TEST(EngineMetrics, ReadsTheSizeOfTheKvCache) {
  auto vllm = parse_engine_metrics(
      "vllm:cache_config_info{block_size=\"16\",cache_dtype=\"auto\",enable_prefix_caching=\"True\","
      "num_cpu_blocks=\"0\",num_gpu_blocks=\"2048\"} 1.0\n");
  EXPECT_EQ(vllm.kv_capacity_tokens, 16.0 * 2048);
  EXPECT_TRUE(vllm.any());
  EXPECT_EQ(parse_engine_metrics("sglang:max_total_num_tokens{name=\"m\"} 161721.0\n").kv_capacity_tokens, 161721.0);
  // Sizes that are not numbers, or missing, say nothing.
  for (const char* bad : {"vllm:cache_config_info{block_size=\"16\"} 1\n",
                          "vllm:cache_config_info{block_size=\"x\",num_gpu_blocks=\"2\"} 1\n",
                          "vllm:cache_config_info{block_size=\"16\",num_gpu_blocks=\"-2\"} 1\n",
                          "vllm:cache_config_info{num_gpu_blocks=\"16 1\n", "vllm:cache_config_info 1\n"})
    EXPECT_FALSE(parse_engine_metrics(bad).kv_capacity_tokens.has_value()) << bad;
}

TEST(EngineMetrics, AddsLabelSetsAndTakesTheFullestCache) {
  auto m = parse_engine_metrics(
      "vllm:num_requests_waiting{model_name=\"a\",engine=\"0\"} 2\n"
      "vllm:num_requests_waiting{model_name=\"b\",engine=\"1\"} 3\n"
      "vllm:gpu_cache_usage_perc{model_name=\"a\"} 0.3\n"
      "vllm:kv_cache_usage_perc{model_name=\"b\"} 0.9\n"
      "vllm:num_requests_running{model_name=\"odd } name\", x=\"a\\\"b\"} 4 1700000000000\n");
  EXPECT_EQ(m.waiting, 5.0);
  EXPECT_EQ(m.kv_usage, 0.9);
  EXPECT_EQ(m.running, 4.0);  // braces and quotes inside label values, and a timestamp
}

TEST(EngineMetrics, IgnoresWhatIsNotANumberItCanUse) {
  std::string hostile = "vllm:num_requests_waiting NaN\n"
                        "vllm:num_requests_waiting -5\n"
                        "vllm:num_requests_waiting +Inf\n"
                        "vllm:num_requests_waiting abc\n"
                        "vllm:num_requests_waiting{model_name=\"never closed 9\n"
                        "vllm:num_requests_waiting\n"
                        "vllm:kv_cache_usage_perc 7.5\n" +  // a share over 1 counts as 1
                        std::string("vllm:num_requests_running ") + std::string(5000, '1') + "\n" +
                        std::string("\xff\x00\x01", 3) + "\n";
  auto m = parse_engine_metrics(hostile);
  EXPECT_FALSE(m.waiting.has_value());
  EXPECT_FALSE(m.running.has_value());  // its line was over the limit
  EXPECT_EQ(m.kv_usage, 1.0);
  EXPECT_FALSE(parse_engine_metrics("").any());
  // Past kMaxMetricsBytes nothing is read.
  std::string big(kMaxMetricsBytes, '#');
  big += "\nvllm:num_requests_waiting 1\n";
  EXPECT_FALSE(parse_engine_metrics(big).any());
}

}  // namespace
}  // namespace duet::router
