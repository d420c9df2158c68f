#include "sim/sim_metrics.h"

#include <gtest/gtest.h>

namespace duet::sim {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(SimMetrics, UsesVllmNamesWithTheModelLabel) {
  SimMetrics metrics("m1");
  auto text = metrics.render({2, 3, 4});
  for (const char* name :
       {"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
        "vllm:time_to_first_token_seconds", "vllm:e2e_request_latency_seconds",
        "vllm:prompt_tokens_total", "vllm:generation_tokens_total", "vllm:request_success_total"})
    EXPECT_NE(text.find(std::string("# TYPE ") + name + " "), std::string::npos) << name;
  EXPECT_TRUE(has_line(text, R"(vllm:num_requests_running{model_name="m1"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(vllm:num_requests_waiting{model_name="m1"} 3)"));
  EXPECT_TRUE(has_line(text, R"(vllm:kv_cache_usage_perc{model_name="m1"} 0.5)"));
}

TEST(SimMetrics, CountsTokensAndOutcomes) {
  SimMetrics metrics("m1");
  metrics.add_prompt_tokens(10);
  metrics.add_generation_tokens(4);
  metrics.observe_first_token(0.05);
  metrics.observe_success(0.2, "length");
  metrics.observe_success(0.2, "stop");
  metrics.observe_abort();
  auto text = metrics.render({});
  EXPECT_TRUE(has_line(text, R"(vllm:prompt_tokens_total{model_name="m1"} 10)")) << text;
  EXPECT_TRUE(has_line(text, R"(vllm:generation_tokens_total{model_name="m1"} 4)"));
  EXPECT_TRUE(has_line(text, R"(vllm:time_to_first_token_seconds_count{model_name="m1"} 1)"));
  EXPECT_TRUE(has_line(text, R"(vllm:e2e_request_latency_seconds_count{model_name="m1"} 2)"));
  for (const char* reason : {"length", "stop", "abort"})
    EXPECT_TRUE(has_line(text, std::string(R"(vllm:request_success_total{finished_reason=")") +
                                   reason + R"(",model_name="m1"} 1)"))
        << reason;
}

TEST(SimMetrics, KvCacheUsageIsTheShareOfSlotsInUse) {
  EXPECT_EQ(SimMetrics::kv_cache_usage({1, 0, 4}), 0.25);
  EXPECT_EQ(SimMetrics::kv_cache_usage({4, 9, 4}), 1.0);
  EXPECT_EQ(SimMetrics::kv_cache_usage({100, 0, 0}), 0.0);  // unlimited: nothing to fill
}

}  // namespace
}  // namespace duet::sim
