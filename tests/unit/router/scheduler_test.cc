// The scheduling policies and the prefix index by hand: a pool of endpoints with set loads,
// a prefix index filled as earlier picks would fill it.
#include "router/scheduler.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <limits>
#include <map>
#include <set>

namespace duet::router {
namespace {

std::string text_of(std::size_t bytes, char fill) { return std::string(bytes, fill); }

std::vector<uint64_t> chunks_of(const std::string& text) {
  std::vector<uint64_t> out;
  append_prefix_chunks(text, out);
  return out;
}

TEST(PrefixChunks, SharedLeadingTextGivesSharedLeadingChunks) {
  std::string head = text_of(600, 'a');
  auto short_one = chunks_of(head);
  auto long_one = chunks_of(head + text_of(600, 'b'));
  ASSERT_EQ(short_one.size(), 2u);  // 600 bytes: two full chunks
  ASSERT_EQ(long_one.size(), 4u);
  EXPECT_EQ(short_one[0], long_one[0]);
  EXPECT_EQ(short_one[1], long_one[1]);
  EXPECT_TRUE(chunks_of(text_of(255, 'a')).empty());
  // A chunk stands for everything before it: a change in the first moves every later one.
  auto changed = chunks_of("b" + head.substr(1) + text_of(600, 'b'));
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NE(changed[i], long_one[i]) << i;
  EXPECT_EQ(chunks_of(text_of(1 << 20, 'c')).size(), kMaxPrefixChunks);
}

// A text given in pieces (a chat's roles and contents) is cut as the pieces joined would be,
// wherever the pieces end, up to the same bound.
TEST(PrefixChunks, PiecesGiveTheChunksOfTheirConcatenation) {
  std::string text;
  for (int i = 0; text.size() < 3000; ++i) text += "word" + std::to_string(i) + " ";
  auto whole = chunks_of(text);
  for (std::size_t first : {0u, 1u, 100u, 255u, 256u, 257u, 700u}) {
    for (std::size_t second : {0u, 1u, 300u, 512u}) {
      std::vector<uint64_t> out;
      PrefixChunker chunker(out);
      std::string_view rest(text);
      for (std::size_t n : {first, second}) {
        chunker.append(rest.substr(0, n));
        rest.remove_prefix(std::min(n, rest.size()));
      }
      chunker.append(rest);
      EXPECT_EQ(out, whole) << first << " " << second;
    }
  }
  std::vector<uint64_t> bounded;
  std::string joined;
  PrefixChunker chunker(bounded);
  for (int i = 0; i < 10'000; ++i) {
    chunker.append("a few bytes ");
    joined += "a few bytes ";
  }
  EXPECT_EQ(bounded.size(), kMaxPrefixChunks);
  EXPECT_EQ(bounded, chunks_of(joined));
}

std::vector<CacheView> views_of(std::initializer_list<uint64_t> ids) {
  std::vector<CacheView> out;
  for (uint64_t id : ids) out.push_back({id, 0, 0});
  return out;
}

TEST(PrefixIndexTest, MatchesEachEndpointsLeadingRun) {
  PrefixIndex index;
  auto chunks = chunks_of(text_of(256 * 6, 'x'));
  EXPECT_EQ(index.record(std::span(chunks).first(4), {7, 0, 0}), 4u);
  EXPECT_EQ(index.record(std::span(chunks).first(2), {8, 0, 0}), 2u);
  EXPECT_EQ(index.record(std::span(chunks).first(3), {7, 4, 0}), 0u);  // held already: nothing new
  std::vector<uint32_t> matched(3);
  index.match(chunks, views_of({7, 8, 9}), matched);
  EXPECT_EQ(matched, (std::vector<uint32_t>{4, 2, 0}));
}

// An engine whose cache holds 6 chunks has evicted a prompt's chunks once 6 other chunks went
// in after them, as its LRU would, the prompt's tail first; one without a known size keeps it.
TEST(PrefixIndexTest, APrefixTheEngineMustHaveEvictedStopsMatching) {
  PrefixIndex index;
  auto old_prompt = chunks_of(text_of(256 * 4, 'o'));
  auto newer = chunks_of(text_of(256 * 4, 'n'));
  auto newest = chunks_of(text_of(256 * 2, 'w'));
  CacheView engine{7, 0, 6};
  engine.written += index.record(old_prompt, engine);
  engine.written += index.record(newer, engine);
  std::vector<uint32_t> matched(1);
  index.match(old_prompt, {&engine, 1}, matched);
  EXPECT_EQ(matched[0], 2u);  // 8 written, 6 held: its last two chunks are gone
  engine.written += index.record(newest, engine);
  index.match(old_prompt, {&engine, 1}, matched);
  EXPECT_EQ(matched[0], 0u);
  index.match(newer, {&engine, 1}, matched);
  EXPECT_EQ(matched[0], 4u);
  CacheView unknown_size{7, engine.written, 0};
  index.match(old_prompt, {&unknown_size, 1}, matched);
  EXPECT_EQ(matched[0], 4u);
  // Sent again, the evicted prompt is computed and stored anew: it counts as written.
  EXPECT_EQ(index.record(old_prompt, engine), 4u);
}

TEST(PrefixIndexTest, StaysWithinItsEntriesAndKeepsFourEndpointsAChunk) {
  PrefixIndex index(64);
  for (int i = 0; i < 50; ++i) {
    auto chunks = chunks_of(text_of(256 * 10, static_cast<char>('A' + i)));
    index.record(chunks, {1, 0, 0});
  }
  EXPECT_LE(index.entries(), 64u);
  auto chunk = chunks_of(text_of(256, 'z'));
  for (uint64_t id = 1; id <= 5; ++id) index.record(chunk, {id, 0, 0});
  std::vector<uint32_t> matched(5);
  index.match(chunk, views_of({1, 2, 3, 4, 5}), matched);
  EXPECT_EQ(matched, (std::vector<uint32_t>{0, 1, 1, 1, 1}));  // the oldest gave its slot up
}

Pool endpoints(std::initializer_list<const char*> names) {
  Pool pool;
  for (const char* name : names) {
    Endpoint e;
    e.name = name;
    e.load = std::make_shared<EndpointLoad>();
    pool.push_back(e);
  }
  return pool;
}

// Teaches an endpoint's TTFT model `first_bytes` first bytes of `ms_per_token` per prompt
// token, over a spread of sizes.
void teach_ttft(const Endpoint& e, double ms_per_token, int first_bytes = 6) {
  constexpr uint64_t kSizes[] = {100, 400, 1600};
  for (int i = 0; i < first_bytes; ++i) {
    uint64_t tokens = kSizes[i % 3];
    e.load->ttft.observe(tokens, std::chrono::microseconds(static_cast<int64_t>(tokens * ms_per_token * 1000)));
  }
}

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerTest() { deployment_.stable = endpoints({"e-0", "e-1", "e-2"}); }
  Decision decision(api::SchedulingPolicy policy, const std::string& prompt = {}, const std::string& session = {}) {
    route_.spec.scheduling.policy = policy;
    Decision d;
    d.route = &route_;
    d.targets[0] = {&deployment_, SizePool::backend, Track::stable};
    d.target_count = 1;
    append_prefix_chunks(prompt, d.prefix_chunks);
    d.prompt_tokens = static_cast<uint32_t>(prompt.size() / 4);
    d.session_key = session;
    return d;
  }
  // As a relay picks: the policy's choice, recorded in the index.
  const Endpoint* schedule_one(const Decision& d) { return pick(d, rng_, {}, std::chrono::steady_clock::now(), &index_).endpoint; }
  void set_load(int endpoint, uint32_t in_flight) { pool_[endpoint].load->in_flight = in_flight; }

  Deployment deployment_;
  Pool& pool_ = deployment_.stable;
  Route route_;
  PrefixIndex index_;
  Rng rng_{42};
};

TEST_F(SchedulerTest, AConversationStaysWhereItsPrefixIsWhileLoadIsEven) {
  std::string context = text_of(4000, 's');
  auto first = schedule_one(decision(api::SchedulingPolicy::duet, context + "turn one"));
  ASSERT_NE(first, nullptr);
  for (int turn = 2; turn < 10; ++turn)
    EXPECT_EQ(schedule_one(decision(api::SchedulingPolicy::duet, context + "turn " + std::to_string(turn))), first);
}

TEST_F(SchedulerTest, ColdPromptsSpreadAndGoToTheLeastLoaded) {
  std::map<const Endpoint*, int> hits;
  for (int i = 0; i < 60; ++i)
    ++hits[schedule_one(decision(api::SchedulingPolicy::duet, text_of(300, static_cast<char>(i + 1))))];
  EXPECT_EQ(hits.size(), 3u);  // ties are shared
  set_load(0, 3);
  set_load(1, 1);
  set_load(2, 2);
  EXPECT_EQ(schedule_one(decision(api::SchedulingPolicy::duet, text_of(300, 'q'))), &pool_[1]);
}

TEST_F(SchedulerTest, AffinityNeverPilesOntoAFullEndpoint) {
  std::string context = text_of(4000, 'p');
  auto home = schedule_one(decision(api::SchedulingPolicy::duet, context));
  int home_index = static_cast<int>(home - pool_.data());
  set_load(home_index, route_.spec.scheduling.max_affinity_in_flight);
  auto elsewhere = schedule_one(decision(api::SchedulingPolicy::duet, context + " again"));
  EXPECT_NE(elsewhere, home);
  // That request took the prefix elsewhere too; now both hold it and the idle one wins.
  EXPECT_EQ(schedule_one(decision(api::SchedulingPolicy::duet, context + " once more")), elsewhere);
  // Below the limit, a loaded endpoint still wins on a prefix only it holds against idle peers.
  std::string other = text_of(4000, 'o');
  index_.record(decision(api::SchedulingPolicy::duet, other).prefix_chunks, cache_view(*home, api::SchedulingPolicy::duet));
  set_load(home_index, 2);
  EXPECT_EQ(schedule_one(decision(api::SchedulingPolicy::duet, other + " more")), home);
}

// Bounded load, not a cliff: when every engine is past maxAffinityInFlight (a burst, or
// engines that run far more sequences than the limit), affinity still holds, so the hit rate
// does not collapse; only an engine twice as busy as the pool's mean is passed over.
TEST_F(SchedulerTest, AffinityHoldsWhenTheWholePoolIsBusy) {
  std::string context = text_of(4000, 'b');
  auto home = schedule_one(decision(api::SchedulingPolicy::duet, context));
  int home_index = static_cast<int>(home - pool_.data());
  for (int i = 0; i < 3; ++i) set_load(i, 40);
  set_load(home_index, 48);
  EXPECT_EQ(schedule_one(decision(api::SchedulingPolicy::duet, context + " busy")), home);
  set_load(home_index, 200);  // now over twice the mean (its own load counted): passed over
  EXPECT_NE(schedule_one(decision(api::SchedulingPolicy::duet, context + " busier")), home);
}

TEST_F(SchedulerTest, RoundRobinTakesEachInTurn) {
  std::set<const Endpoint*> seen;
  for (int i = 0; i < 3; ++i) seen.insert(schedule_one(decision(api::SchedulingPolicy::round_robin)));
  EXPECT_EQ(seen.size(), 3u);
}

TEST_F(SchedulerTest, SessionAffinityKeepsASessionAndPassesOverAFullEndpoint) {
  auto alice = schedule_one(decision(api::SchedulingPolicy::session_affinity, {}, "alice"));
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(schedule_one(decision(api::SchedulingPolicy::session_affinity, {}, "alice")), alice);
  std::set<const Endpoint*> spread;
  for (int i = 0; i < 30; ++i)
    spread.insert(schedule_one(decision(api::SchedulingPolicy::session_affinity, {}, "user" + std::to_string(i))));
  EXPECT_EQ(spread.size(), 3u);
  set_load(static_cast<int>(alice - pool_.data()), route_.spec.scheduling.max_affinity_in_flight);
  EXPECT_NE(schedule_one(decision(api::SchedulingPolicy::session_affinity, {}, "alice")), alice);
}

TEST_F(SchedulerTest, DuetReadsTheEnginesOwnQueueAndCacheWhileTheyAreFresh) {
  auto now = std::chrono::steady_clock::now();
  auto report = [&](int endpoint, uint32_t queue, uint32_t kv_permille, std::chrono::steady_clock::time_point at) {
    pool_[endpoint].load->engine_queue = queue;
    pool_[endpoint].load->engine_kv_permille = kv_permille;
    pool_[endpoint].load->metrics_at = at.time_since_epoch().count();
  };
  // Engine 0 holds the conversation, but says 40 requests wait there (other routers' load).
  std::string context = text_of(4000, 'm');
  index_.record(decision(api::SchedulingPolicy::duet, context).prefix_chunks, cache_view(pool_[0], api::SchedulingPolicy::duet));
  report(0, 40, 900, now);
  report(1, 0, 100, now);
  report(2, 0, 600, now);
  auto picked = schedule_one(decision(api::SchedulingPolicy::duet, context + "?"));
  EXPECT_EQ(picked, &pool_[1]);  // not the full one; of the idle ones, the emptier cache
  // prefix ignores the engines' figures: the prefix wins there.
  index_.record(decision(api::SchedulingPolicy::prefix, context).prefix_chunks, cache_view(pool_[0], api::SchedulingPolicy::prefix));
  std::string other = text_of(4000, 'n');
  index_.record(decision(api::SchedulingPolicy::prefix, other).prefix_chunks, cache_view(pool_[0], api::SchedulingPolicy::prefix));
  EXPECT_EQ(schedule_one(decision(api::SchedulingPolicy::prefix, other + "?")), &pool_[0]);
  // Figures older than a second are not believed: duet falls back to its own counts.
  report(0, 40, 900, now - std::chrono::seconds(5));
  EXPECT_EQ(schedule_one(decision(api::SchedulingPolicy::duet, other + "!")), &pool_[0]);
}

// A busy engine holding the prefix keeps the request unless another is predicted to start it
// sooner: moving it to an engine just as slow to start adds a cold prefill to a busy pool.
TEST_F(SchedulerTest, DuetLeavesThePrefixOnlyForAnEnginePredictedToStartSooner) {
  auto now = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    auto& load = *pool_[i].load;
    load.ttft.observe(1000, std::chrono::milliseconds(100));  // 0.1 ms a token everywhere
    load.ttft.observe(2000, std::chrono::milliseconds(200));
    load.engine_queue = i == 0 ? 40 : 15;  // the holder's queue, under twice the mean
    load.engine_kv_permille = i == 0 ? 900 : 100;
    load.metrics_at = now.time_since_epoch().count();
  }
  // Engine 0 holds the first half of the prompt: on its score alone, its queue and KV
  // outweigh that half.
  std::string context = text_of(4000, 'h');
  index_.record(decision(api::SchedulingPolicy::duet, context).prefix_chunks,
                cache_view(pool_[0], api::SchedulingPolicy::duet));
  auto d = decision(api::SchedulingPolicy::duet, context + text_of(4000, 'x'));
  // A quarter of the prompt's tokens wait there: it starts the other half sooner than an idle
  // engine starts the whole.
  pool_[0].load->ttft.pending = d.prompt_tokens / 4;
  EXPECT_EQ(schedule_one(d), &pool_[0]);
  // Five times the prompt waits there: an idle engine starts it sooner.
  pool_[0].load->ttft.pending = 5 * d.prompt_tokens;
  EXPECT_NE(schedule_one(decision(api::SchedulingPolicy::duet, context + text_of(4000, 'y'))), &pool_[0]);
}

// A holder predicted a few times slower to start than a cold engine keeps its prompt (near
// the pool's capacity every busy holder is); many times slower, it loses it.
TEST_F(SchedulerTest, AHolderAFewTimesSlowerToStartKeepsItsPromptAndManyTimesLosesIt) {
  for (int i = 0; i < 3; ++i) teach_ttft(pool_[i], 0.1);
  std::string context = text_of(4000, 'k');
  index_.record(decision(api::SchedulingPolicy::duet, context).prefix_chunks,
                cache_view(pool_[0], api::SchedulingPolicy::duet));
  auto d = decision(api::SchedulingPolicy::duet, context + "?");
  pool_[0].load->ttft.pending = 6 * d.prompt_tokens;  // about 5x the others' predicted start
  EXPECT_EQ(schedule_one(d), &pool_[0]);
  pool_[0].load->ttft.pending = 100 * d.prompt_tokens;  // about 80x
  EXPECT_NE(schedule_one(decision(api::SchedulingPolicy::duet, context + "!")), &pool_[0]);
}

// The engine says its cache holds 6 chunks, and 30 other chunks went in after the
// conversation's: duet takes it as evicted; prefix, as llm-d's approximate scorer with its
// defaults, assumes every server holds kApproximateCapacityChunks and still follows it.
TEST_F(SchedulerTest, OnlyDuetBelievesTheEnginesCacheSize) {
  pool_[0].load->cache_chunks = 6;
  // Two conversations, one asked of each policy (a pick records the prompt where it went).
  std::string conversation = text_of(4000, 'c'), another = text_of(4000, 'a');
  for (const auto& text : {conversation, another, text_of(256 * 30, 'd')})
    pool_[0].load->cache_written +=
        index_.record(decision(api::SchedulingPolicy::duet, text).prefix_chunks, cache_view(pool_[0], api::SchedulingPolicy::duet));
  EXPECT_EQ(cache_view(pool_[0], api::SchedulingPolicy::duet).capacity, 6u);
  EXPECT_EQ(cache_view(pool_[0], api::SchedulingPolicy::prefix).capacity, kApproximateCapacityChunks);
  set_load(0, 1);  // a little busier than its idle peers
  EXPECT_NE(schedule_one(decision(api::SchedulingPolicy::duet, conversation + "!")), &pool_[0]);
  EXPECT_EQ(schedule_one(decision(api::SchedulingPolicy::prefix, another + "?")), &pool_[0]);
}

TEST_F(SchedulerTest, TriedAndEjectedEndpointsAreNeverPicked) {
  const Endpoint* tried[] = {&pool_[0]};
  pool_[1].load->ejected_until = (std::chrono::steady_clock::now() + std::chrono::hours(1)).time_since_epoch().count();
  PickReason why;
  for (auto policy : {api::SchedulingPolicy::duet, api::SchedulingPolicy::round_robin,
                      api::SchedulingPolicy::session_affinity, api::SchedulingPolicy::least_request})
    EXPECT_EQ(schedule(pool_, decision(policy, text_of(600, 'k'), "s"), rng_, tried, std::chrono::steady_clock::now(),
                       &index_, why),
              &pool_[2])
        << api::to_string(policy);
}

TEST(TtftModelTest, LearnsBaseAndPerTokenCostAndCountsTheWorkAhead) {
  TtftModel model;
  EXPECT_FALSE(model.predict_ms(100));  // nothing learned: no guess
  // 20 ms, plus 0.5 ms a token.
  for (uint64_t tokens : {100, 1000, 300, 2000, 50, 800})
    model.observe(tokens, std::chrono::microseconds(static_cast<int64_t>((20 + 0.5 * tokens) * 1000)));
  ASSERT_TRUE(model.predict_ms(1000));
  EXPECT_NEAR(*model.predict_ms(1000), 520, 5);
  auto now = std::chrono::steady_clock::now();
  {
    PendingPrefill ahead(model, 2000, now);  // sent, no first byte yet: it is work ahead
    EXPECT_NEAR(*model.predict_ms(1000), 1520, 10);
    PendingPrefill moved = std::move(ahead);
    EXPECT_NEAR(*model.predict_ms(1000), 1520, 10);
  }
  EXPECT_NEAR(*model.predict_ms(1000), 520, 5);  // given back once, by whoever held it
}

// A first byte or two of work alike says how long that work takes, not what a token costs:
// a short prompt's slow first byte (a busy host, a new connection) is no per-token cost to
// multiply by a longer prompt's tokens.
TEST(TtftModelTest, WorkAllAlikeTeachesNoPerTokenCost) {
  TtftModel one;
  one.observe(3, std::chrono::milliseconds(22));
  EXPECT_NEAR(*one.predict_alone_ms(500), 22, 0.5);
  TtftModel alike;
  for (int i = 0; i < 30; ++i) alike.observe(100, std::chrono::milliseconds(20));
  alike.observe(101, std::chrono::milliseconds(40));  // one token more, a noisy 20 ms slower
  EXPECT_LT(*alike.predict_alone_ms(2000), 100);
  // Once the work seen varies, the per-token cost is learned.
  for (uint64_t tokens : {400, 1600, 800})
    alike.observe(tokens, std::chrono::microseconds(static_cast<int64_t>((20 + 0.5 * tokens) * 1000)));
  EXPECT_GT(*alike.predict_alone_ms(2000), 500);
}

TEST_F(SchedulerTest, DuetPrefersTheEndpointPredictedToStartSooner) {
  teach_ttft(pool_[0], 2.0);
  teach_ttft(pool_[1], 0.25);  // a faster device
  teach_ttft(pool_[2], 2.0);
  auto d = decision(api::SchedulingPolicy::duet, text_of(300, 'c') + "a cold prompt");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(schedule_one(d), &pool_[1]);
  // Work sent to it and not yet answered counts against it.
  PendingPrefill queue(pool_[1].load->ttft, 50'000, std::chrono::steady_clock::now());
  EXPECT_NE(schedule_one(d), &pool_[1]);
  // leastRequest and prefix know nothing of speed.
  PickReason why;
  schedule(pool_, decision(api::SchedulingPolicy::prefix, text_of(300, 'c')), rng_, {}, std::chrono::steady_clock::now(), &index_, why);
  EXPECT_LT(why.predicted_ttft_ms, 0);
}

// A prompt no endpoint holds goes where the cache turns over slowest (cache_pressure.h),
// though the others would start it as soon: a prefix placed on the busiest cache is evicted
// before its next turn. A prompt an endpoint holds stays there. Where prompts share nothing,
// where a prefix goes does not matter.
TEST_F(SchedulerTest, ANewPrefixGoesWhereTheCacheTurnsOverSlowest) {
  for (auto& e : pool_) e.load->cache_chunks = 1000;
  pool_[0].load->cache_write_rate = 400;  // chunks a second
  pool_[1].load->cache_write_rate = 50;
  pool_[2].load->cache_write_rate = 400;
  for (auto& e : pool_) e.load->cache_send_rate = 2000;  // most of what is sent is held
  for (char c : {'a', 'b', 'c', 'd'})
    EXPECT_EQ(schedule_one(decision(api::SchedulingPolicy::duet, text_of(4000, c))), &pool_[1]);
  pool_[2].load->cache_chunks = 16'000;  // as fast, but sixteen times the room: slower turnover
  EXPECT_EQ(schedule_one(decision(api::SchedulingPolicy::duet, text_of(4000, 'e'))), &pool_[2]);
  std::string held = text_of(4000, 'h');
  index_.record(decision(api::SchedulingPolicy::duet, held).prefix_chunks, cache_view(pool_[0], api::SchedulingPolicy::duet));
  EXPECT_EQ(schedule_one(decision(api::SchedulingPolicy::duet, held + "next turn")), &pool_[0]);
  // Without the weight, and under prefix, new prompts spread over the idle endpoints.
  std::set<const Endpoint*> duet_unweighted, prefix;
  for (char c = 'i'; c < 'z'; ++c) {
    route_.spec.scheduling.cache_weight = 0;
    duet_unweighted.insert(schedule_one(decision(api::SchedulingPolicy::duet, text_of(4000, c) + "1")));
    route_.spec.scheduling.cache_weight = 2;
    prefix.insert(schedule_one(decision(api::SchedulingPolicy::prefix, text_of(4000, c) + "2")));
  }
  EXPECT_EQ(duet_unweighted.size(), 3u);
  EXPECT_EQ(prefix.size(), 3u);
  // Every chunk sent written, none reused: the turnover no longer counts.
  for (auto& e : pool_) e.load->cache_send_rate = e.load->cache_write_rate.load();
  std::set<const Endpoint*> no_reuse;
  for (char c = 'i'; c < 'z'; ++c) no_reuse.insert(schedule_one(decision(api::SchedulingPolicy::duet, text_of(4000, c) + "3")));
  EXPECT_EQ(no_reuse.size(), 3u);
}

// A burst on the small (NPU) pool, idle large (GPU) pool: small requests spill over when the
// GPUs are predicted to start them more than spill.marginMs sooner.
class SpillTest : public ::testing::Test {
 protected:
  SpillTest() {
    small_.stable = endpoints({"npu-0", "npu-1"});
    large_.stable = endpoints({"gpu-0"});
    route_.spec.size_routing = api::SizeRouting{2048, "npu", "gpu"};
    route_.spec.scheduling.policy = api::SchedulingPolicy::duet;
    route_.small = &small_;
    route_.large = &large_;
    for (const auto& e : small_.stable) teach_ttft(e, 1.0);
    teach_ttft(large_.stable[0], 0.85);
  }
  // A 500-token prompt of `fill`s: one the index has seen once it was picked.
  Pick pick_small_request(char fill = 's') {
    Decision d;
    d.route = &route_;
    d.targets[0] = {&small_, SizePool::small, Track::stable};
    d.targets[1] = {&large_, SizePool::large, Track::stable};
    d.target_count = 2;
    append_prefix_chunks(text_of(2000, fill), d.prefix_chunks);
    d.prompt_tokens = 500;
    decision_ = d;
    return pick(decision_, rng_, {}, std::chrono::steady_clock::now(), &index_);
  }

  Deployment small_, large_;
  Route route_;
  Decision decision_;
  PrefixIndex index_;
  Rng rng_{7};
};

// The x-duet-decision text, field by field, with the predicted TTFT rounded as printf's
// %.0f rounds it (to even at .5: 0.5 -> 0, 2.5 -> 2, 239.5 -> 240), large and infinite too.
TEST_F(SpillTest, TheDecisionTextNamesEachFieldThatApplies) {
  Decision d;
  d.route = &route_;
  d.targets[0] = {&small_, SizePool::small, Track::stable};
  d.target_count = 1;
  Pick p{&d.targets[0], &small_.stable[0], {}};
  auto text = [&] {
    std::string out = "kept ";
    append_decision_text(d, p, out);
    return out;
  };
  EXPECT_EQ(text(), "kept policy=duet pool=small spill=no");
  p.why.prompt_chunks = 16;
  p.why.matched_chunks = 12;
  p.why.spilled = true;
  for (float ms : {0.0f, 0.5f, 1.5f, 2.5f, 0.49999997f, 239.5f, 123456.5f, 1e9f, 2e15f,
                   std::numeric_limits<float>::infinity()}) {
    p.why.predicted_ttft_ms = ms;
    char shown[64];
    std::snprintf(shown, sizeof shown, "%.0f", static_cast<double>(ms));  // what it always was
    EXPECT_EQ(text(), std::string("kept policy=duet pool=small prefix=12/16 ttft_ms=") + shown + " spill=yes");
  }
  route_.spec.scheduling.policy = api::SchedulingPolicy::prefix;
  p.why.predicted_ttft_ms = -1;
  EXPECT_EQ(text(), "kept policy=prefix pool=small prefix=12/16");
}

TEST_F(SpillTest, ASmallRequestSpillsToTheLargePoolOnlyWhenThatStartsItSooner) {
  Pick calm = pick_small_request();
  ASSERT_TRUE(calm.endpoint);
  EXPECT_EQ(calm.target->pool, SizePool::small);  // 500 ms against 425 ms: within the 100 ms margin
  EXPECT_FALSE(calm.why.spilled);
  std::string text;
  append_decision_text(decision_, calm, text);
  EXPECT_EQ(text.rfind("policy=duet pool=small prefix=0/7 ttft_ms=", 0), 0u) << text;
  EXPECT_NE(text.find(" spill=no"), std::string::npos) << text;

  auto now = std::chrono::steady_clock::now();
  PendingPrefill burst0(small_.stable[0].load->ttft, 4000, now);
  PendingPrefill burst1(small_.stable[1].load->ttft, 4000, now);
  Pick burst = pick_small_request();
  EXPECT_EQ(burst.target->pool, SizePool::large);
  EXPECT_TRUE(burst.why.spilled);
  text.clear();
  append_decision_text(decision_, burst, text);
  EXPECT_NE(text.find("pool=large"), std::string::npos) << text;
  EXPECT_NE(text.find(" spill=yes"), std::string::npos) << text;

  {
    // Up to the request's own tokens (500) may wait there: it still spills.
    PendingPrefill small_wait(large_.stable[0].load->ttft, 400, now);
    EXPECT_TRUE(pick_small_request().why.spilled);
  }
  {
    // A large prompt waits for its first token there: small ones do not queue ahead of it.
    PendingPrefill large_prompt(large_.stable[0].load->ttft, 4000, now);
    Pick busy = pick_small_request();
    EXPECT_EQ(busy.target->pool, SizePool::small);
    EXPECT_FALSE(busy.why.spilled);
  }
  route_.spec.scheduling.spill = false;  // static size routing
  EXPECT_EQ(pick_small_request().target->pool, SizePool::small);
  route_.spec.scheduling.spill = true;
  route_.spec.scheduling.spill_margin = std::chrono::milliseconds(10'000);
  EXPECT_EQ(pick_small_request().target->pool, SizePool::small);
}

// Each pool has answered once: the small one a 3-token prompt 22 ms after it was sent (a busy
// host), the large one at once. Nothing says the small pool is slower per token: the request
// stays there.
TEST_F(SpillTest, OneSlowFirstByteOfAShortPromptSpillsNothing) {
  small_.stable = endpoints({"npu-0", "npu-1"});
  large_.stable = endpoints({"gpu-0"});
  for (const auto& e : small_.stable) e.load->ttft.observe(3, std::chrono::milliseconds(22));
  large_.stable[0].load->ttft.observe(400, std::chrono::milliseconds(2));
  Pick p = pick_small_request();
  ASSERT_TRUE(p.endpoint);
  EXPECT_EQ(p.target->pool, SizePool::small);
  EXPECT_FALSE(p.why.spilled);
}

// The small pool is ten times slower a token than the large one, but a spill waits until
// each side's prediction rests on five first bytes.
TEST_F(SpillTest, ASpillWaitsForFiveFirstBytesOnEachSide) {
  small_.stable = endpoints({"npu-0", "npu-1"});
  large_.stable = endpoints({"gpu-0"});
  for (const auto& e : small_.stable) teach_ttft(e, 2.0, 4);  // 500 tokens: 1 s
  teach_ttft(large_.stable[0], 0.2, 5);                      // 100 ms
  EXPECT_FALSE(pick_small_request('a').why.spilled);
  for (const auto& e : small_.stable) teach_ttft(e, 2.0, 1);
  EXPECT_TRUE(pick_small_request('b').why.spilled);
  large_.stable = endpoints({"gpu-1"});
  teach_ttft(large_.stable[0], 0.2, 4);
  EXPECT_FALSE(pick_small_request('c').why.spilled);
  teach_ttft(large_.stable[0], 0.2, 1);
  EXPECT_TRUE(pick_small_request('d').why.spilled);
}

}  // namespace
}  // namespace duet::router
