// duet-bench-decision: the routing decision of SPEC §9 (≤ 2 µs for a 4 KB body) with Google
// Benchmark (scenario 6): the token estimate of a 4 KB body (JSON parse included, as the
// router parses it once per request), the canary hash, the endpoint pick, and the whole
// decision (estimate + version + pick) as a request runs it, with the default scheduling
// policy (duet: prefix chunks and the prefix index, docs/scheduling.md).
#include <benchmark/benchmark.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "router/prefix_index.h"
#include "router/route_decision.h"
#include "router/scheduler.h"

namespace {

using namespace duet::router;

// A chat body of about 4 KB: a system and a user message, ASCII, as clients send.
std::string body_4k() {
  std::string words;
  while (words.size() < 3900) words += "the quick brown fox jumps over the lazy dog. ";
  nlohmann::json body = {{"model", "bench"},
                         {"max_tokens", 64},
                         {"messages",
                          {{{"role", "system"}, {"content", "You are a helpful assistant."}},
                           {{"role", "user"}, {"content", words}}}}};
  return body.dump();
}

Pool make_pool(const std::string& deployment, Track track, int n) {
  Pool pool;
  for (int i = 0; i < n; ++i) {
    Endpoint e;
    e.name = deployment + "-" + std::to_string(i);
    e.deployment = deployment;
    e.track = track;
    e.backend = deployment + "/" + e.name;
    e.load = std::make_shared<EndpointLoad>();
    pool.push_back(std::move(e));
  }
  return pool;
}

// A sizeRouting route with a canary at 10 %: 8 stable and 2 canary endpoints per pool.
struct Fixture {
  Deployment small{"small", 10, make_pool("small", Track::stable, 8),
                   make_pool("small", Track::canary, 2)};
  Deployment large{"large", 10, make_pool("large", Track::stable, 8),
                   make_pool("large", Track::canary, 2)};
  Route route;
  std::string body = body_4k();

  Fixture() {
    route.spec.metadata.name = "chat";
    route.spec.size_routing = duet::api::SizeRouting{2048, "small", "large"};
    route.spec.canary_header_name = "x-canary";
    route.spec.canary_header_value = "true";
    route.spec.stickiness_claim = "sub";
    route.small = &small;
    route.large = &large;
  }
};

void token_estimate_4k(benchmark::State& state) {
  Fixture f;
  for (auto _ : state) {
    RequestBody body(f.body);
    benchmark::DoNotOptimize(body.tokens());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.body.size()));
}
BENCHMARK(token_estimate_4k);

void canary_hash(benchmark::State& state) {
  std::string sub = "user-1234567";
  for (auto _ : state) benchmark::DoNotOptimize(sticky_bucket(sub));
}
BENCHMARK(canary_hash);

void pick_endpoint_p2c(benchmark::State& state) {
  Fixture f;
  Rng rng(42);
  auto now = std::chrono::steady_clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(pick_endpoint(f.small.stable, rng, {}, now));
}
BENCHMARK(pick_endpoint_p2c);

// What a request runs: parse + estimate, size pool, version, then the endpoint pick (with the
// prefix index when one is given).
void run_decisions(benchmark::State& state, const Fixture& f, PrefixIndex* index = nullptr) {
  Rng rng(42);
  VersionHint hint{"", "user-1234567"};
  for (auto _ : state) {
    RequestBody body(f.body);
    Decision d = decide(f.route, body, hint);
    benchmark::DoNotOptimize(pick(d, rng, {}, std::chrono::steady_clock::now(), index));
  }
}

void decide_and_pick_4k(benchmark::State& state) { run_decisions(state, Fixture{}); }
BENCHMARK(decide_and_pick_4k);

// The same under policy leastRequest (no prefix chunks): what the default policy costs.
void decide_and_pick_4k_least_request(benchmark::State& state) {
  Fixture f;
  f.route.spec.scheduling.policy = duet::api::SchedulingPolicy::least_request;
  run_decisions(state, f);
}
BENCHMARK(decide_and_pick_4k_least_request);

// The same with the prefix index (issue 18: ≤ 5 µs with 100,000 entries): the index is filled
// to its 100,000-chunk bound with other prompts first; each request looks its 15 chunks up,
// predicts each endpoint's TTFT, weighs a spill to the large pool, and records the pick.
void decide_and_pick_prefix_100k(benchmark::State& state) {
  Fixture f;
  PrefixIndex index(100'000);
  // 7,000 prompts of 15 chunks: more than the index holds (each shard keeps its share).
  for (int i = 0; i < 7'000; ++i) {
    std::vector<uint64_t> chunks;
    append_prefix_chunks(std::to_string(i) + f.body, chunks);
    const Endpoint& e = f.small.stable[static_cast<std::size_t>(i) % 8];
    e.load->cache_written += index.record(chunks, cache_view(e, duet::api::SchedulingPolicy::duet));
  }
  // Every endpoint has a TTFT model and a cache size, so duet predicts for both pools and
  // weighs spilling (the small pool's pick is predicted slower, within the margin).
  for (const Deployment* d : {&f.small, &f.large})
    for (const Pool* pool : {&d->stable, &d->canary})
      for (const Endpoint& e : *pool) {
        e.load->cache_chunks = 20'000;
        for (uint64_t tokens : {200, 800, 3200})
          e.load->ttft.observe(tokens, std::chrono::microseconds(tokens * (d == &f.small ? 200 : 100)));
      }
  run_decisions(state, f, &index);
  // A label, not a counter: Google Benchmark's CSV output aborts when one benchmark has a
  // counter the others lack (make bench's decision scenario did).
  state.SetLabel("index_entries=" + std::to_string(index.entries()));
}
BENCHMARK(decide_and_pick_prefix_100k);

}  // namespace

BENCHMARK_MAIN();
