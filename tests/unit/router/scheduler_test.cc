// The scheduling policies and the prefix index by hand: a pool of endpoints with set loads,
// a prefix index filled as earlier picks would fill it.
#include "router/scheduler.h"

#include <gtest/gtest.h>

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

TEST(PrefixIndexTest, MatchesEachEndpointsLeadingRun) {
  PrefixIndex index;
  auto chunks = chunks_of(text_of(256 * 6, 'x'));
  index.record(std::span(chunks).first(4), 7);
  index.record(std::span(chunks).first(2), 8);
  std::vector<uint64_t> ids = {7, 8, 9};
  std::vector<uint32_t> matched(3);
  index.match(chunks, ids, matched);
  EXPECT_EQ(matched, (std::vector<uint32_t>{4, 2, 0}));
}

TEST(PrefixIndexTest, StaysWithinItsEntriesAndKeepsFourEndpointsAChunk) {
  PrefixIndex index(64);
  for (int i = 0; i < 50; ++i) {
    auto chunks = chunks_of(text_of(256 * 10, static_cast<char>('A' + i)));
    index.record(chunks, 1);
  }
  EXPECT_LE(index.entries(), 64u);
  auto chunk = chunks_of(text_of(256, 'z'));
  for (uint64_t id = 1; id <= 5; ++id) index.record(chunk, id);
  std::vector<uint64_t> ids = {1, 2, 3, 4, 5};
  std::vector<uint32_t> matched(5);
  index.match(chunk, ids, matched);
  EXPECT_EQ(matched, (std::vector<uint32_t>{0, 1, 1, 1, 1}));  // the oldest gave its slot up
}

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerTest() {
    for (const char* name : {"e-0", "e-1", "e-2"}) {
      Endpoint e;
      e.name = name;
      e.load = std::make_shared<EndpointLoad>();
      pool_.push_back(e);
    }
  }
  Decision decision(api::SchedulingPolicy policy, const std::string& prompt = {}, const std::string& session = {}) {
    route_.spec.scheduling.policy = policy;
    Decision d;
    d.route = &route_;
    append_prefix_chunks(prompt, d.prefix_chunks);
    d.session_key = session;
    return d;
  }
  const Endpoint* schedule_one(const Decision& d) {
    return schedule(pool_, d, rng_, {}, std::chrono::steady_clock::now(), &index_);
  }
  void set_load(int endpoint, uint32_t in_flight) { pool_[endpoint].load->in_flight = in_flight; }

  Pool pool_;
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
  index_.record(decision(api::SchedulingPolicy::duet, other).prefix_chunks, home->load->id);
  set_load(home_index, 2);
  EXPECT_EQ(schedule_one(decision(api::SchedulingPolicy::duet, other + " more")), home);
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
  index_.record(decision(api::SchedulingPolicy::duet, context).prefix_chunks, pool_[0].load->id);
  report(0, 40, 900, now);
  report(1, 0, 100, now);
  report(2, 0, 600, now);
  auto picked = schedule_one(decision(api::SchedulingPolicy::duet, context + "?"));
  EXPECT_EQ(picked, &pool_[1]);  // not the full one; of the idle ones, the emptier cache
  // prefix ignores the engines' figures: the prefix wins there.
  index_.record(decision(api::SchedulingPolicy::prefix, context).prefix_chunks, pool_[0].load->id);
  std::string other = text_of(4000, 'n');
  index_.record(decision(api::SchedulingPolicy::prefix, other).prefix_chunks, pool_[0].load->id);
  EXPECT_EQ(schedule_one(decision(api::SchedulingPolicy::prefix, other + "?")), &pool_[0]);
  // Figures older than a second are not believed: duet falls back to its own counts.
  report(0, 40, 900, now - std::chrono::seconds(5));
  EXPECT_EQ(schedule_one(decision(api::SchedulingPolicy::duet, other + "!")), &pool_[0]);
}

TEST_F(SchedulerTest, TriedAndEjectedEndpointsAreNeverPicked) {
  const Endpoint* tried[] = {&pool_[0]};
  pool_[1].load->ejected_until = (std::chrono::steady_clock::now() + std::chrono::hours(1)).time_since_epoch().count();
  for (auto policy : {api::SchedulingPolicy::duet, api::SchedulingPolicy::round_robin,
                      api::SchedulingPolicy::session_affinity, api::SchedulingPolicy::least_request})
    EXPECT_EQ(schedule(pool_, decision(policy, text_of(600, 'k'), "s"), rng_, tried, std::chrono::steady_clock::now(),
                       &index_),
              &pool_[2])
        << api::to_string(policy);
}

}  // namespace
}  // namespace duet::router
