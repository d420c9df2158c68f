// duet-sim with the engine model (--profile), as a process: prefix caching seen by a client
// in usage.prompt_tokens_details.cached_tokens, preemption when the KV cache runs out (every
// request still completes), and requests that can never fit refused.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "duet/common/line_splitter.h"
#include "support/sim_process.h"

namespace duet::test {
namespace {

using nlohmann::json;

// A chat request of `messages`, `max_tokens` long.
std::string chat(const json& messages, int max_tokens, bool stream = false) {
  return json({{"messages", messages}, {"max_tokens", max_tokens}, {"stream", stream}}).dump();
}

const json kFirstTurn = json::array(
    {{{"role", "system"},
      {"content", "You are a careful assistant for the operators of a mixed NPU and GPU serving "
                  "cluster. Answer briefly, cite the runbook section, and never guess."}},
     {{"role", "user"}, {"content", "Which engine serves the small requests?"}}});

TEST(SimEngineModel, AResentConversationReportsItsCachedTokens) {
  SimProcess sim({"--profile", "nvidia-h100", "--time-scale", "100"});
  auto first = sim.post("/v1/chat/completions", chat(kFirstTurn, 8));
  ASSERT_EQ(first.result_int(), 200) << first.body();
  auto answer = json::parse(first.body());
  EXPECT_EQ(answer["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
  auto first_prompt = answer["usage"]["prompt_tokens"].get<int>();

  auto second_turn = kFirstTurn;
  second_turn.push_back({{"role", "assistant"}, {"content", answer["choices"][0]["message"]["content"]}});
  second_turn.push_back({{"role", "user"}, {"content", "And the large ones?"}});
  auto second = json::parse(sim.post("/v1/chat/completions", chat(second_turn, 4)).body());
  auto cached = second["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>();
  // At least every full 16-token block of the first prompt; the answer's blocks too, often.
  EXPECT_GE(cached, first_prompt / 16 * 16) << second.dump();
  EXPECT_GT(cached, 0);
  EXPECT_LT(cached, second["usage"]["prompt_tokens"].get<int>());
  EXPECT_EQ(sim.metric("vllm:prefix_cache_hits_total"), cached);
}


// A streamed chat asking for stream_options.include_usage gets it as vLLM sends it: a chunk
// of its own after the closing one, with the cached tokens of a resent conversation.
TEST(SimEngineModel, AStreamWithIncludeUsageEndsWithAUsageChunk) {
  SimProcess sim({"--profile", "nvidia-h100", "--time-scale", "100"});
  auto first = json::parse(sim.post("/v1/chat/completions", chat(kFirstTurn, 8)).body());
  auto second_turn = kFirstTurn;
  second_turn.push_back({{"role", "assistant"}, {"content", first["choices"][0]["message"]["content"]}});
  second_turn.push_back({{"role", "user"}, {"content", "And the large ones?"}});
  auto request = json::parse(chat(second_turn, 4, true));
  request["stream_options"] = {{"include_usage", true}};
  StreamClient client;
  auto stream = client.open(sim.address(), "/v1/chat/completions", request.dump());
  ASSERT_TRUE(eventually([&] { return stream->ended(); }, 10s));
  auto [events, done] = sse_events(stream->body());
  EXPECT_TRUE(done);
  ASSERT_EQ(events.size(), 6u) << stream->body();  // 4 tokens, the closing chunk, usage
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(events[i].contains("usage")) << events[i].dump();
  EXPECT_EQ(events[4]["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(events[5]["choices"], json::array());
  EXPECT_EQ(events[5]["usage"]["completion_tokens"], 4);
  EXPECT_GT(events[5]["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(), 0) << events[5].dump();

  // Without stream_options the closing chunk carries usage, as duet-sim always did.
  auto plain = client.open(sim.address(), "/v1/chat/completions", chat(second_turn, 2, true));
  ASSERT_TRUE(eventually([&] { return plain->ended(); }, 10s));
  auto [plain_events, plain_done] = sse_events(plain->body());
  ASSERT_EQ(plain_events.size(), 3u) << plain->body();
  EXPECT_EQ(plain_events[2]["choices"][0]["finish_reason"], "length");
  EXPECT_GT(plain_events[2]["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(), 0);
}

TEST(SimEngineModel, WithoutPrefixCachingNothingIsCached) {
  SimProcess sim({"--profile", "ascend-910b", "--block-size", "128", "--prefix-caching", "off",
                  "--time-scale", "100"});
  for (int i = 0; i < 2; ++i) {
    auto res = json::parse(sim.post("/v1/chat/completions", chat(kFirstTurn, 2)).body());
    EXPECT_EQ(res["usage"]["prompt_tokens_details"]["cached_tokens"], 0) << res.dump();
  }
}

TEST(SimEngineModel, PreemptsWhenTheCacheRunsOutAndEveryRequestStillCompletes) {
  // 6 blocks of 4 tokens; each sequence grows to 5 blocks, so four at once cannot all stay.
  SimProcess sim({"--profile", "nvidia-h100", "--kv-blocks", "6", "--block-size", "4", "--time-scale", "20"});
  StreamClient client;
  std::vector<std::shared_ptr<StreamRecord>> streams;
  for (int i = 0; i < 4; ++i)
    streams.push_back(client.open(sim.address(), "/v1/completions",
                                  json({{"prompt", "question number " + std::to_string(i)},
                                        {"max_tokens", 12},
                                        {"stream", true}})
                                      .dump()));
  ASSERT_TRUE(eventually([&] {
    return std::all_of(streams.begin(), streams.end(), [](auto& s) { return s->ended(); });
  }, 20s));
  for (const auto& s : streams) {
    int tokens = 0;
    bool done = false;
    LineSplitter lines;
    for (const auto& line : lines.feed(s->body())) {
      if (line == "data: [DONE]") done = true;
      else if (line.starts_with("data: ") && !json::parse(line.substr(6))["choices"][0]["text"].get<std::string>().empty())
        ++tokens;
    }
    EXPECT_EQ(tokens, 12) << s->body();
    EXPECT_TRUE(done);
  }
  EXPECT_GT(sim.metric("vllm:num_preemptions_total"), 0);
  EXPECT_LE(sim.metric("vllm:kv_cache_usage_perc"), 1.0);
}

TEST(SimEngineModel, ARequestThatCanNeverFitTheCacheIsRefused) {
  SimProcess sim({"--profile", "mlu370", "--kv-blocks", "4", "--block-size", "4"});
  auto res = sim.post("/v1/completions", R"({"prompt": "a b c d e f", "max_tokens": 20})");
  EXPECT_EQ(res.result_int(), 400) << res.body();
  EXPECT_EQ(json::parse(res.body())["error"]["param"], "max_tokens");
  EXPECT_NE(res.body().find("maximum context length is 16 tokens"), std::string::npos) << res.body();
  // Its cache's size, as vLLM tells it (the router's prefix index reads it).
  auto metrics = sim.get("/metrics").body();
  EXPECT_NE(metrics.find(R"(vllm:cache_config_info{block_size="4",num_gpu_blocks="4"} 1)"), std::string::npos)
      << metrics;
}

TEST(SimEngineModel, AnUnknownProfileIsNamedWithTheKnownOnes) {
  ChildProcess sim({bin("duet-sim"), "--profile", "tpu-v5"});
  int status = sim.wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_NE(sim.output().find("--profile: expected one of ascend-910b, nvidia-h20, nvidia-h100, mlu370, cpu"),
            std::string::npos)
      << sim.output();
}

}  // namespace
}  // namespace duet::test
