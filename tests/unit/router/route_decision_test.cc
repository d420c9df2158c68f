#include "router/route_decision.h"

#include <gtest/gtest.h>

#include <map>

#include "watch_objects.h"

namespace duet::router {
namespace {

using test::json;

const auto kNow = std::chrono::steady_clock::now();

std::shared_ptr<const RoutingTable> table_of(json routes, json engines, SourceState& state,
                                             EndpointLoads& loads) {
  state.apply(test::snapshot(1, std::move(routes),
                             json::array({test::deployment("small"), test::deployment("large"),
                                          test::deployment("other")}),
                             std::move(engines)));
  return RoutingTable::build({&state}, loads);
}

struct Fixture : ::testing::Test {
  SourceState state;
  EndpointLoads loads;
  std::shared_ptr<const RoutingTable> table;

  void SetUp() override {
    table = table_of(json::array({test::size_route("chat", 100, "small", "large"),
                                  test::backend_route("v1-model", "other", "/v1/", "m1"),
                                  test::backend_route("long", "other", "/v1/chat/"),
                                  test::backend_route("v2", "other", "/v2/")}),
                     json::array({test::engine("s0", "small", "127.0.0.1:1"),
                                  test::engine("s1", "small", "127.0.0.1:2"),
                                  test::engine("l0", "large", "127.0.0.1:3"),
                                  test::engine("o0", "other", "127.0.0.1:4")}),
                     state, loads);
  }

  std::string route_for(std::string_view target, std::string body = "{}") {
    RequestBody b(body);
    const Route* r = match_route(*table, target, b);
    return r ? r->spec.name() : "none";
  }

  Decision decide_body(const std::string& body) {
    RequestBody b(body);
    return decide(*match_route(*table, "/v1/completions", b), b, {});
  }
};

using RouteMatching = Fixture;

TEST_F(RouteMatching, ModelRoutesComeFirstThenLongerPrefixes) {
  EXPECT_EQ(route_for("/v1/chat/completions", R"({"model":"m1"})"), "v1-model");
  EXPECT_EQ(route_for("/v1/chat/completions", R"({"model":"m2"})"), "long");
  EXPECT_EQ(route_for("/v1/chat/completions"), "long");
  EXPECT_EQ(route_for("/v1/completions?x=1"), "chat");
  EXPECT_EQ(route_for("/v2/anything"), "v2");
  EXPECT_EQ(route_for("/v3/completions"), "none");
  EXPECT_EQ(route_for("/v1/completions", "not json"), "chat");  // no model: no model match
}

TEST(RouteOrder, MoreSpecificFirst) {
  auto spec = [](std::string name, std::string prefix, std::string model) {
    api::Route s;
    s.metadata.name = std::move(name);
    s.path_prefix = std::move(prefix);
    s.model = std::move(model);
    return s;
  };
  api::Route with_model = spec("z", "/", "m");
  api::Route long_prefix = spec("a", "/v1/chat/", "");
  api::Route short_prefix = spec("b", "/v1/", "");
  EXPECT_TRUE(more_specific(with_model, long_prefix));
  EXPECT_TRUE(more_specific(long_prefix, short_prefix));
  EXPECT_FALSE(more_specific(short_prefix, long_prefix));
}

TEST(SizePool, ThresholdSplitsSmallFromLarge) {
  api::SizeRouting routing{100, "s", "l"};
  EXPECT_EQ(choose_size_pool(routing, 0), SizePool::small);
  EXPECT_EQ(choose_size_pool(routing, 99), SizePool::small);
  EXPECT_EQ(choose_size_pool(routing, 100), SizePool::large);
}

TEST(RequestBodyTokens, CountsAsciiByFourAndCjkByCodePoint) {
  std::string ascii(400, 'a');
  EXPECT_EQ(RequestBody(json({{"prompt", ascii}}).dump()).tokens(), 100u);
  // Forty CJK characters are forty tokens, though they are 120 bytes.
  std::string cjk;
  for (int i = 0; i < 40; ++i) cjk += "\xe4\xbd\xa0";  // 你
  EXPECT_EQ(
      RequestBody(json({{"messages", {{{"role", "user"}, {"content", cjk}}}}}).dump()).tokens(),
      40u);
  EXPECT_EQ(RequestBody(json({{"prompt", "abcd"}, {"max_tokens", 50}}).dump()).tokens(), 51u);
  EXPECT_EQ(RequestBody("garbage").tokens(), 0u);
}

using SizeRoutingDecision = Fixture;

TEST_F(SizeRoutingDecision, ShortPromptGoesSmallLongGoesLarge) {
  auto d = decide_body(json({{"prompt", "hello"}}).dump());
  EXPECT_EQ(d.targets[0].pool, SizePool::small);
  EXPECT_EQ(d.targets[0].deployment, table->deployment("small"));
  d = decide_body(json({{"prompt", std::string(800, 'x')}}).dump());
  EXPECT_EQ(d.tokens, 200u);
  EXPECT_EQ(d.targets[0].pool, SizePool::large);
}

TEST_F(SizeRoutingDecision, CjkIsCountedPerCharacter) {
  std::string cjk;
  for (int i = 0; i < 99; ++i) cjk += "\xe5\xa5\xbd";  // 好: 297 bytes, 99 tokens
  EXPECT_EQ(decide_body(json({{"prompt", cjk}}).dump()).targets[0].pool, SizePool::small);
  cjk += "\xe5\xa5\xbd";
  EXPECT_EQ(decide_body(json({{"prompt", cjk}}).dump()).targets[0].pool, SizePool::large);
}

TEST_F(SizeRoutingDecision, MaxTokensMovesARequestAcrossTheThreshold) {
  std::string prompt(40, 'x');  // 10 tokens
  EXPECT_EQ(decide_body(json({{"prompt", prompt}, {"max_tokens", 89}}).dump()).targets[0].pool,
            SizePool::small);
  auto d = decide_body(json({{"prompt", prompt}, {"max_tokens", 90}}).dump());
  EXPECT_EQ(d.tokens, 100u);
  EXPECT_EQ(d.targets[0].pool, SizePool::large);
}

TEST_F(SizeRoutingDecision, FallsBackToTheOtherPoolWhenOneIsEmpty) {
  SourceState s;
  EndpointLoads l;
  auto t = table_of(json::array({test::size_route("chat", 100, "small", "large")}),
                    json::array({test::engine("l0", "large", "127.0.0.1:3")}), s, l);
  RequestBody body(R"({"prompt":"hi"})");
  Decision d = decide(t->routes()[0], body, {});
  Rng rng(1);
  Pick p = pick(d, rng, {}, kNow);
  ASSERT_TRUE(p.endpoint);
  EXPECT_EQ(p.endpoint->name, "l0");
  EXPECT_EQ(p.target->pool, SizePool::large);
  EXPECT_EQ(p.target->track, Track::stable);
}

TEST(PowerOfTwoChoices, PicksTheLessLoadedOfTwo) {
  SourceState state;
  EndpointLoads loads;
  auto table = table_of(json::array(),
                        json::array({test::engine("a", "small", "127.0.0.1:1"),
                                     test::engine("b", "small", "127.0.0.1:2")}),
                        state, loads);
  const Pool& pool = table->deployment("small")->stable;
  pool[0].load->in_flight = 5;
  Rng rng(42);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(pick_endpoint(pool, rng, {}, kNow)->name, "b");
}

TEST(PowerOfTwoChoices, SkipsNotReadyAndTriedEndpoints) {
  SourceState state;
  EndpointLoads loads;
  auto table = table_of(json::array(),
                        json::array({test::engine("a", "small", "127.0.0.1:1"),
                                     test::engine("down", "small", "127.0.0.1:2", false),
                                     test::engine("c", "small", "127.0.0.1:3")}),
                        state, loads);
  const Pool& pool = table->deployment("small")->stable;
  Rng rng(7);
  std::map<std::string, int> seen;
  for (int i = 0; i < 200; ++i) ++seen[pick_endpoint(pool, rng, {}, kNow)->name];
  EXPECT_EQ(seen.count("down"), 0u);
  EXPECT_GT(seen["a"], 0);
  EXPECT_GT(seen["c"], 0);
  const Endpoint* tried[] = {&pool[0]};
  for (int i = 0; i < 20; ++i) EXPECT_EQ(pick_endpoint(pool, rng, tried, kNow)->name, "c");
  const Endpoint* all[] = {&pool[0], &pool[1]};
  EXPECT_EQ(pick_endpoint(pool, rng, all, kNow), nullptr);
  EXPECT_EQ(pick_endpoint(Pool{}, rng, {}, kNow), nullptr);
}

// A moving stream's next engine: its own deployment and track only (no fallback to the other
// size pool), looked up in a newer table, with the engines that failed left out by address.
TEST_F(RouteMatching, AContinuationStaysOnItsDeploymentInTheNewestTableWithoutItsFailedEngines) {
  Decision first = decide_body(R"({"prompt":"hi"})");
  ASSERT_GE(first.target_count, 2u);  // small, then the large pool as the fallback
  const Target& small = first.targets[0];
  const Endpoint* failed = &small.deployment->pool(small.track)[0];

  SourceState newer_state;
  auto newer = table_of(json::array({test::size_route("chat", 100, "small", "large")}),
                        json::array({test::engine("s0", "small", failed->address_text),
                                     test::engine("s2", "small", "127.0.0.1:9"),
                                     test::engine("l0", "large", "127.0.0.1:3")}),
                        newer_state, loads);
  Decision next = continuation(first, small, *newer);
  ASSERT_EQ(next.target_count, 1u);
  EXPECT_EQ(next.route, first.route);
  EXPECT_EQ(next.targets[0].deployment, newer->deployment("small"));
  EXPECT_EQ(next.targets[0].track, small.track);

  std::array<const Endpoint*, 4> out{};
  const Endpoint* tried[] = {failed};
  ASSERT_EQ(same_endpoints(next, tried, out), 1u);
  EXPECT_EQ(out[0], &newer->deployment("small")->stable[0]);
  // With the failed engine left out only s2 is left, never l0 of the large pool.
  Rng rng(1);
  for (int i = 0; i < 20; ++i) {
    Pick p = pick(next, rng, {out.data(), 1}, kNow);
    ASSERT_NE(p.endpoint, nullptr);
    EXPECT_EQ(p.endpoint->name, "s2");
  }
  // A newer table without Ready engines in the deployment: nothing to pick, not even l0.
  SourceState empty_state;
  auto without = table_of(json::array(), json::array({test::engine("l0", "large", "127.0.0.1:3")}), empty_state, loads);
  EXPECT_EQ(pick(continuation(first, small, *without), rng, {}, kNow).endpoint, nullptr);
}

}  // namespace
}  // namespace duet::router
