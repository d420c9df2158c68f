// duet-sim as a process: real HTTP on an ephemeral port, real timers, real faults.

#include "support/sim_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "duet/common/line_splitter.h"
#include "support/raw_http.h"

namespace duet::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kChat5 =
    R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, "stream": true})";
const std::string kStreamLong = R"({"prompt": "go", "max_tokens": 10000, "stream": true})";

void expect_error(const http::ClientResponse& res, int status, const std::string& param) {
  EXPECT_EQ(res.result_int(), status) << res.body();
  auto error = json::parse(res.body())["error"];
  EXPECT_EQ(error["param"], param.empty() ? json() : json(param)) << res.body();
  EXPECT_TRUE(error["message"].is_string());
  EXPECT_FALSE(res["x-duet-replica"].empty());
}

// `data:` payloads of an SSE body, [DONE] included.
std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> data;
  LineSplitter lines;
  for (const auto& line : lines.feed(body))
    if (line.starts_with("data: ")) data.push_back(line.substr(6));
  return data;
}

TEST(SimProcess, CompletionCarriesUsageAndReplicaHeader) {
  SimProcess sim({"--name", "replica-a"});
  auto res = sim.post("/v1/completions",
                      R"({"model": "duet-sim", "prompt": "hello there!", "max_tokens": 4})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(res["x-duet-replica"], "replica-a");
  auto body = json::parse(res.body());
  EXPECT_EQ(body["object"], "text_completion");
  EXPECT_EQ(body["choices"][0]["text"], " tok0 tok1 tok2 tok3");
  EXPECT_EQ(body["usage"],
            json({{"prompt_tokens", 3}, {"completion_tokens", 4}, {"total_tokens", 7}}));

  auto health = sim.get("/health");
  EXPECT_EQ(health.result_int(), 200);
  EXPECT_EQ(health.body(), "");
  EXPECT_EQ(health["x-duet-replica"], "replica-a");
}

TEST(SimProcess, ReplicaNameComesFromTheEnvironmentElseHostPort) {
  SimProcess named({}, {{"DUET_REPLICA", "chat-small-0"}});
  EXPECT_EQ(named.get("/health")["x-duet-replica"], "chat-small-0");
  SimProcess unnamed({}, {{"DUET_REPLICA", ""}});
  EXPECT_EQ(unnamed.get("/health")["x-duet-replica"],
            "127.0.0.1:" + std::to_string(unnamed.port()));
}

TEST(SimProcess, NonStreamedAnswerWaitsForEveryToken) {
  SimProcess sim({"--ttft-ms", "100", "--tpot-ms", "50"});
  auto start = std::chrono::steady_clock::now();
  auto res = sim.post("/v1/chat/completions",
                      R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3})");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(json::parse(res.body())["choices"][0]["message"]["content"], " tok0 tok1 tok2");
}

TEST(SimProcess, StreamedChatArrivesChunkByChunk) {
  SimProcess sim({"--ttft-ms", "50", "--tpot-ms", "100", "--name", "s1"});
  StreamClient client;
  auto stream = client.open(sim.address(), "/v1/chat/completions", kChat5);
  ASSERT_TRUE(eventually([&] { return stream->ended(); }));
  EXPECT_FALSE(stream->error()) << stream->error().message();
  EXPECT_EQ(stream->header(":status"), "200");
  EXPECT_EQ(stream->header("Content-Type"), "text/event-stream");
  EXPECT_EQ(stream->header("x-duet-replica"), "s1");

  auto data = sse_data(stream->body());
  ASSERT_EQ(data.size(), 7u) << stream->body();  // 5 tokens, the closing chunk, [DONE]
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(json::parse(data[i])["choices"][0]["delta"]["content"], " tok" + std::to_string(i));
  auto last = json::parse(data[5]);
  EXPECT_EQ(last["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(last["usage"]["completion_tokens"], 5);
  EXPECT_EQ(data[6], "[DONE]");

  // The first token was read 400 ms before the last was sent: nothing was buffered whole.
  auto pieces = stream->pieces();
  auto first = std::find_if(pieces.begin(), pieces.end(),
                            [](const auto& p) { return p.data.find("tok0") != std::string::npos; });
  auto done = std::find_if(pieces.begin(), pieces.end(), [](const auto& p) {
    return p.data.find("[DONE]") != std::string::npos;
  });
  ASSERT_NE(first, pieces.end());
  ASSERT_NE(done, pieces.end());
  EXPECT_GE(done->at - first->at, 300ms);
  EXPECT_GE(pieces.size(), 5u);
}

TEST(SimProcess, ServesModelsAndVllmMetrics) {
  SimProcess sim({"--model", "m7"});
  auto models = json::parse(sim.get("/v1/models").body());
  EXPECT_EQ(models["object"], "list");
  ASSERT_EQ(models["data"].size(), 1u);
  EXPECT_EQ(models["data"][0]["id"], "m7");
  EXPECT_EQ(models["data"][0]["object"], "model");

  ASSERT_EQ(sim.post("/v1/completions", R"({"prompt": "abcd", "model": "m7"})").result_int(), 200);
  auto metrics = sim.get("/metrics");
  EXPECT_TRUE(metrics[http::bhttp::field::content_type].starts_with("text/plain"));
  for (const char* name : {"vllm:num_requests_running", "vllm:num_requests_waiting",
                           "vllm:kv_cache_usage_perc", "vllm:time_to_first_token_seconds_count",
                           "vllm:e2e_request_latency_seconds_count", "vllm:prompt_tokens_total"})
    EXPECT_GE(sim.metric(name, "m7"), 0) << name;
  EXPECT_EQ(sim.metric("vllm:generation_tokens_total", "m7"), 16);  // --output-tokens default
}

TEST(SimProcess, UnknownPathsAndMethodsAreOpenAiErrors) {
  SimProcess sim({});
  expect_error(sim.get("/v2/nothing"), 404, "");
  auto wrong = sim.get("/v1/completions");
  expect_error(wrong, 405, "");
  EXPECT_EQ(wrong[http::bhttp::field::allow], "POST");
}

TEST(SimProcess, BadRequestsNameTheField) {
  SimProcess sim({});
  expect_error(sim.post("/v1/completions", R"({"max_tokens": 3})"), 400, "prompt");
  expect_error(sim.post("/v1/completions", R"({"prompt": "x", "max_tokens": "x"})"), 400,
               "max_tokens");
  expect_error(sim.post("/v1/chat/completions", R"({"messages": [{"role": 1}]})"), 400,
               "messages[0].role");
  expect_error(sim.post("/v1/completions", R"({"prompt": "x", "stream": "no"})"), 400, "stream");
  expect_error(sim.post("/v1/completions", R"({"prompt": "x", "model": "nope"})"), 404, "model");
  auto not_json = sim.post("/v1/completions", "{prompt");
  expect_error(not_json, 400, "");
  EXPECT_NE(not_json.body().find("request body is not valid JSON"), std::string::npos);
  auto not_utf8 = sim.post("/v1/completions", "{\"prompt\": \"\xFF\"}");
  expect_error(not_utf8, 400, "");
  EXPECT_NE(not_utf8.body().find("not valid UTF-8"), std::string::npos);
  // A number past double used to escape the parser as an exception: a 500 (issue 15).
  expect_error(sim.post("/v1/completions", R"({"prompt":"x","max_tokens":1e309})"), 400,
               "max_tokens");
}

TEST(SimProcess, FailRateOneAnswersEveryInferenceRequest500) {
  SimProcess sim({"--fail-rate", "1"});
  for (int i = 0; i < 3; ++i) {
    auto res = sim.post("/v1/completions", R"({"prompt": "x"})");
    expect_error(res, 500, "");
    EXPECT_EQ(json::parse(res.body())["error"]["type"], "server_error");
  }
  EXPECT_EQ(sim.get("/health").result_int(), 200);
}

TEST(SimProcess, CrashAfterTwoDiesOnTheThirdWithoutAnswering) {
  SimProcess sim({"--crash-after", "2"});
  EXPECT_EQ(sim.post("/v1/completions", R"({"prompt": "x"})").result_int(), 200);
  EXPECT_EQ(sim.get("/health").result_int(), 200);  // only inference requests count
  EXPECT_EQ(sim.post("/v1/completions", R"({"prompt": "x"})").result_int(), 200);
  EXPECT_THROW(sim.post("/v1/completions", R"({"prompt": "x"})"), std::system_error);
  int status = sim.process().wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
}

TEST(SimProcess, HangAfterOneAnswersNothingMoreNotEvenHealth) {
  SimProcess sim({"--hang-after", "1"});
  EXPECT_EQ(sim.post("/v1/completions", R"({"prompt": "x"})").result_int(), 200);
  EXPECT_THROW(sim.post("/v1/completions", R"({"prompt": "x"})", 300ms), std::system_error);
  EXPECT_THROW(sim.get("/health", 300ms), std::system_error);
  EXPECT_TRUE(sim.process().running());
}

// On a sim with one slot: a stream that holds it and a second one waiting for it.
std::pair<std::shared_ptr<StreamRecord>, std::shared_ptr<StreamRecord>> hold_and_queue(SimProcess& sim,
                                                                                      StreamClient& client) {
  auto first = client.open(sim.address(), "/v1/completions", kStreamLong);
  EXPECT_TRUE(eventually([&] { return sim.metric("vllm:num_requests_running") == 1; }));
  auto second = client.open(sim.address(), "/v1/completions", kStreamLong);
  EXPECT_TRUE(eventually([&] { return sim.metric("vllm:num_requests_waiting") == 1; }));
  return {first, second};
}

TEST(SimProcess, MaxConcurrencyQueuesBeyondTheLimit) {
  SimProcess sim({"--max-concurrency", "1", "--ttft-ms", "60000"});
  StreamClient client;
  auto [first, second] = hold_and_queue(sim, client);
  ASSERT_FALSE(::testing::Test::HasFailure());
  EXPECT_EQ(sim.metric("vllm:num_requests_running"), 1);
  EXPECT_EQ(sim.metric("vllm:kv_cache_usage_perc"), 1);

  client.cancel(first);  // the waiter gets the slot
  ASSERT_TRUE(eventually([&] { return sim.metric("vllm:num_requests_waiting") == 0; }));
  EXPECT_EQ(sim.metric("vllm:num_requests_running"), 1);
  ASSERT_TRUE(eventually([&] { return second->header(":status") == "200"; }));
  client.cancel(second);
  EXPECT_TRUE(eventually([&] { return sim.metric("vllm:num_requests_running") == 0; }));
}

TEST(SimProcess, ACancelledWaiterLeavesTheQueue) {
  SimProcess sim({"--max-concurrency", "1", "--ttft-ms", "60000"});
  StreamClient client;
  auto [first, second] = hold_and_queue(sim, client);
  ASSERT_FALSE(::testing::Test::HasFailure());
  client.cancel(second);
  EXPECT_TRUE(eventually([&] { return sim.metric("vllm:num_requests_waiting") == 0; }));
  EXPECT_EQ(sim.metric("vllm:num_requests_running"), 1);
}

TEST(SimProcess, ACancelledStreamFreesItsSlotAtOnce) {
  SimProcess sim({"--tpot-ms", "50"});
  StreamClient client;
  auto stream = client.open(sim.address(), "/v1/completions", kStreamLong);
  ASSERT_TRUE(eventually([&] { return stream->body().find("tok1") != std::string::npos; }));
  EXPECT_EQ(sim.metric("vllm:num_requests_running"), 1);
  client.cancel(stream);
  EXPECT_TRUE(eventually([&] { return sim.metric("vllm:num_requests_running") == 0; }));
  EXPECT_TRUE(eventually([&] {
    auto text = sim.get("/metrics").body();
    return text.find(
               R"(vllm:request_success_total{finished_reason="abort",model_name="duet-sim"} 1)") !=
           std::string::npos;
  }));
}

TEST(SimProcess, AConnectionOverMaxConnectionsGets503WithRetryAfter) {
  SimProcess sim({"--max-connections", "2"});
  const std::string health = "GET /health HTTP/1.1\r\nHost: t\r\n\r\n";
  RawHttpClient first(sim.port()), second(sim.port());
  for (auto* c : {&first, &second}) {  // served, so both hold a place
    c->send(health);
    auto res = c->read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 200);
  }
  RawHttpClient third(sim.port());
  third.send(health);
  auto busy = third.read();
  ASSERT_TRUE(busy) << "closed without an answer";
  EXPECT_EQ(busy->result_int(), 503);
  EXPECT_EQ((*busy)[http::bhttp::field::retry_after], "1");
  EXPECT_TRUE(third.closed_within(std::chrono::seconds(3)));
  EXPECT_TRUE(sim.process().wait_for_output("event=connection_refused reason=max_connections limit=2"));
}

TEST(SimProcess, BadFlagExitsWithStatus2NamingTheFlag) {
  ChildProcess sim({bin("duet-sim"), "--port", "eighty"});
  int status = sim.wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_NE(sim.output().find("--port: expected an integer"), std::string::npos) << sim.output();
}

// SIGTERM is a graceful stop, as a real engine's: no new connection, the stream in progress
// runs to its last token, then the process exits.
TEST(SimProcess, SigtermLetsTheStreamInProgressFinishThenExits) {
  SimProcess sim({"--tpot-ms", "20"});
  StreamClient client;
  auto stream = client.open(sim.address(), "/v1/completions",
                            R"({"prompt": "go", "max_tokens": 40, "stream": true})");
  ASSERT_TRUE(eventually([&] { return !stream->body().empty(); }));
  sim.process().signal(SIGTERM);
  EXPECT_TRUE(eventually([&] {
    try {
      sim.get("/health", 1s);
      return false;
    } catch (const std::exception&) {
      return true;  // refused
    }
  }, 5s)) << "still accepting after SIGTERM";
  int status = sim.process().wait();
  ASSERT_TRUE(WIFEXITED(status)) << sim.process().output();
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(stream->ended());
  EXPECT_FALSE(stream->error()) << stream->error().message();
  EXPECT_NE(stream->body().find("data: [DONE]"), std::string::npos) << stream->body();
  EXPECT_NE(sim.process().output().find("event=stopped"), std::string::npos);
}

// One that outlives --shutdown-timeout-ms ends with an error event in the OpenAI shape and
// without [DONE]: a client can tell it was cut.
TEST(SimProcess, AStreamOutlivingTheShutdownTimeoutEndsWithAnErrorEvent) {
  SimProcess sim({"--tpot-ms", "50", "--shutdown-timeout-ms", "200"});
  StreamClient client;
  auto stream = client.open(sim.address(), "/v1/completions", kStreamLong);
  ASSERT_TRUE(eventually([&] { return !stream->body().empty(); }));
  sim.process().signal(SIGTERM);
  int status = sim.process().wait();
  ASSERT_TRUE(WIFEXITED(status)) << sim.process().output();
  EXPECT_EQ(WEXITSTATUS(status), 0);
  ASSERT_TRUE(eventually([&] { return stream->ended(); }, 5s));
  auto body = stream->body();
  EXPECT_EQ(body.find("data: [DONE]"), std::string::npos) << body;
  auto last = body.rfind("data: ");
  ASSERT_NE(last, std::string::npos);
  auto event = nlohmann::json::parse(body.substr(last + 6));
  EXPECT_EQ(event["error"]["code"], 503) << body;
  EXPECT_NE(event["error"]["message"].get<std::string>().find("shutting down"), std::string::npos);
}

}  // namespace
}  // namespace duet::test
