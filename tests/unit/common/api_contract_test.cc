// duet/api/: the shapes duetd, the router and duetctl exchange, each written and read in one
// place. What one side writes the other reads back unchanged; defaults and limits are the
// same whoever reads; a newer peer's extra fields are ignored on the wire and refused in a
// manifest.
#include <gtest/gtest.h>

#include "duet/api/deployment_status.h"
#include "duet/api/engine_status.h"
#include "duet/api/route.h"
#include "duet/api/traffic_report.h"
#include "duet/api/watch_event.h"

namespace duet::api {
namespace {

using nlohmann::json;

json route_manifest(json spec) {
  return {{"apiVersion", "duet/v1alpha1"}, {"kind", "Route"}, {"metadata", {{"name", "chat"}}}, {"spec", spec}};
}

// The path of the first field `read` refuses, or "(accepted)".
template <class Read>
std::string refused_field(Read read) {
  try {
    read();
  } catch (const FieldError& e) {
    return e.path();
  }
  return "(accepted)";
}

TEST(ApiRoute, DefaultsAreFilledOnceAndSurviveTheRoundTrip) {
  auto route = parse_route(route_manifest({{"backend", "chat"}}), Unknown::reject);
  EXPECT_EQ(route.name(), "chat");
  EXPECT_EQ(route.path_prefix, "/v1/");
  EXPECT_EQ(route.canary_header_name, "x-canary");
  EXPECT_EQ(route.stickiness_claim, "sub");
  EXPECT_EQ(route.retry_attempts, 2u);
  EXPECT_EQ(route.first_byte_timeout.count(), 60);
  auto back = parse_route(to_json(route), Unknown::reject);
  EXPECT_EQ(to_json(back), to_json(route));

  auto sized = parse_route(route_manifest({{"sizeRouting", {{"small", "s"}, {"large", "l"}}},
                                           {"retries", {{"attempts", 5}}},
                                           {"match", {{"model", "m"}}}}));
  ASSERT_TRUE(sized.size_routing);
  EXPECT_EQ(sized.size_routing->threshold_tokens, 2048u);
  EXPECT_EQ(sized.deployments(), (std::vector<std::string>{"s", "l"}));
  EXPECT_EQ(parse_route(to_json(sized)).retry_attempts, 5u);
  EXPECT_EQ(parse_route(to_json(sized)).model, "m");
}

// Issue 17: duetd accepted `attempts: 0` and the router silently made it 1. One reader now
// refuses it for both, naming the field.
TEST(ApiRoute, ZeroAttemptsIsRefusedByTheManifestAndTheStreamAlike) {
  auto zero = route_manifest({{"backend", "chat"}, {"retries", {{"attempts", 0}}}});
  EXPECT_EQ(refused_field([&] { parse_route(zero, Unknown::reject); }), "spec.retries.attempts");
  EXPECT_EQ(refused_field([&] { parse_route(zero, Unknown::ignore); }), "spec.retries.attempts");
  auto both = route_manifest({{"backend", "a"}, {"sizeRouting", {{"small", "s"}, {"large", "l"}}}});
  EXPECT_EQ(refused_field([&] { parse_route(both); }), "spec");
  EXPECT_EQ(refused_field([&] { parse_route(route_manifest({{"backend", "a"}, {"timeouts", {{"idleSeconds", 0}}}})); }),
            "spec.timeouts.idleSeconds");
}

TEST(ApiRoute, SchedulingDefaultsToDuetAndRefusesWhatItDoesNotKnowNamingTheField) {
  auto plain = parse_route(route_manifest({{"backend", "chat"}}), Unknown::reject);
  EXPECT_EQ(plain.scheduling.policy, SchedulingPolicy::duet);
  EXPECT_EQ(plain.scheduling.prefix_weight, 2.0);
  EXPECT_EQ(plain.scheduling.queue_weight, 1.0);
  EXPECT_EQ(plain.scheduling.max_affinity_in_flight, 16u);
  EXPECT_EQ(plain.scheduling.ttft_weight, 1.0);
  EXPECT_EQ(plain.scheduling.cache_weight, 2.0);
  EXPECT_TRUE(plain.scheduling.spill);
  EXPECT_EQ(plain.scheduling.spill_margin, std::chrono::milliseconds(100));
  auto tuned = parse_route(route_manifest({{"backend", "chat"},
                                           {"scheduling", {{"policy", "sessionAffinity"},
                                                           {"weights", {{"prefix", 0.5}, {"queue", 3}, {"kvUtilization", 0}, {"ttft", 4}, {"cachePressure", 0.5}}},
                                                           {"maxAffinityInFlight", 4},
                                                           {"sessionHeader", "x-session-id"},
                                                           {"spill", {{"enabled", false}, {"marginMs", 1000}}}}}}),
                           Unknown::reject);
  EXPECT_EQ(tuned.scheduling.policy, SchedulingPolicy::session_affinity);
  EXPECT_EQ(tuned.scheduling.prefix_weight, 0.5);
  EXPECT_EQ(tuned.scheduling.queue_weight, 3.0);
  EXPECT_EQ(tuned.scheduling.kv_weight, 0.0);
  EXPECT_EQ(tuned.scheduling.max_affinity_in_flight, 4u);
  EXPECT_EQ(tuned.scheduling.session_header, "x-session-id");
  EXPECT_EQ(tuned.scheduling.ttft_weight, 4.0);
  EXPECT_EQ(tuned.scheduling.cache_weight, 0.5);
  EXPECT_FALSE(tuned.scheduling.spill);
  EXPECT_EQ(tuned.scheduling.spill_margin, std::chrono::milliseconds(1000));
  EXPECT_EQ(to_json(parse_route(to_json(tuned), Unknown::reject)), to_json(tuned));

  auto with = [](json scheduling) { return route_manifest({{"backend", "chat"}, {"scheduling", scheduling}}); };
  EXPECT_EQ(refused_field([&] { parse_route(with({{"policy", "fastest"}})); }), "spec.scheduling.policy");
  EXPECT_EQ(refused_field([&] { parse_route(with({{"weights", {{"prefix", -1}}}})); }),
            "spec.scheduling.weights.prefix");
  EXPECT_EQ(refused_field([&] { parse_route(with({{"weights", {{"cachePressure", 1001}}}})); }),
            "spec.scheduling.weights.cachePressure");
  EXPECT_EQ(refused_field([&] { parse_route(with({{"weights", {{"kvUtilisation", 1}}}}), Unknown::reject); }),
            "spec.scheduling.weights.kvUtilisation");
  EXPECT_EQ(refused_field([&] { parse_route(with({{"maxAffinityInFlight", 0}})); }),
            "spec.scheduling.maxAffinityInFlight");
  EXPECT_EQ(refused_field([&] { parse_route(with({{"weights", {{"ttft", -0.5}}}})); }), "spec.scheduling.weights.ttft");
  EXPECT_EQ(refused_field([&] { parse_route(with({{"spill", {{"marginMs", -1}}}})); }), "spec.scheduling.spill.marginMs");
  EXPECT_EQ(refused_field([&] { parse_route(with({{"spill", {{"enabled", "yes"}}}})); }), "spec.scheduling.spill.enabled");
  EXPECT_EQ(refused_field([&] { parse_route(with({{"spill", {{"margin", 5}}}}), Unknown::reject); }),
            "spec.scheduling.spill.margin");
  try {
    parse_route(with({{"policy", "fastest"}}));
  } catch (const FieldError& e) {
    EXPECT_EQ(e.message(), "expected duet, leastRequest, roundRobin, prefix or sessionAffinity, got \"fastest\"");
  }
}

// Mid-stream migration (docs/migration.md): off unless asked for; its limits checked and
// named; the block survives the wire.
TEST(ApiRoute, MigrationIsOffByDefaultAndItsLimitsAreNamed) {
  auto plain = parse_route(route_manifest({{"backend", "chat"}}), Unknown::reject);
  EXPECT_FALSE(plain.migration.enabled);
  EXPECT_EQ(plain.migration.max_migrations, 2u);
  EXPECT_EQ(plain.migration.max_tokens, 32768u);
  EXPECT_EQ(plain.migration.ready_wait, std::chrono::milliseconds(5000));
  auto on = parse_route(route_manifest({{"backend", "chat"},
                                        {"migration",
                                         {{"enabled", true}, {"maxMigrations", 3}, {"maxMigratableTokens", 1000}, {"readyWaitMs", 0}, {"textFallback", true}}}}),
                        Unknown::reject);
  EXPECT_TRUE(on.migration.enabled);
  EXPECT_EQ(on.migration.max_migrations, 3u);
  EXPECT_EQ(on.migration.max_tokens, 1000u);
  EXPECT_EQ(on.migration.ready_wait, std::chrono::milliseconds(0));
  EXPECT_TRUE(on.migration.text_fallback);
  EXPECT_FALSE(plain.migration.text_fallback);
  EXPECT_EQ(to_json(parse_route(to_json(on), Unknown::reject)), to_json(on));
  auto with = [](json migration) { return route_manifest({{"backend", "chat"}, {"migration", migration}}); };
  EXPECT_EQ(refused_field([&] { parse_route(with({{"maxMigrations", 0}})); }), "spec.migration.maxMigrations");
  EXPECT_EQ(refused_field([&] { parse_route(with({{"maxMigrations", 11}})); }), "spec.migration.maxMigrations");
  EXPECT_EQ(refused_field([&] { parse_route(with({{"maxMigratableTokens", 0}})); }), "spec.migration.maxMigratableTokens");
  EXPECT_EQ(refused_field([&] { parse_route(with({{"readyWaitMs", 60001}})); }), "spec.migration.readyWaitMs");
  EXPECT_EQ(refused_field([&] { parse_route(with({{"enabled", "yes"}})); }), "spec.migration.enabled");
  EXPECT_EQ(refused_field([&] { parse_route(with({{"stallSeconds", 5}}), Unknown::reject); }), "spec.migration.stallSeconds");
}

TEST(ApiRoute, UnknownFieldsAreRefusedInAManifestAndIgnoredOnTheWire) {
  auto newer = route_manifest({{"backend", "chat"}, {"mirror", "shadow"}});
  newer["metadata"]["resourceVersion"] = "7";
  EXPECT_EQ(refused_field([&] { parse_route(newer, Unknown::reject); }), "metadata.resourceVersion");
  EXPECT_EQ(parse_route(newer, Unknown::ignore).backend, "chat");
}

TEST(ApiEngineStatus, RoundTripsAndNamesABadTrack) {
  EngineStatus e;
  e.name = "chat-canary-0";
  e.deployment = "chat";
  e.track = Track::canary;
  e.state = EngineState::ready;
  e.ready = true;
  e.endpoint = "127.0.0.1:9000";
  e.port = 9000;
  e.devices = {"npu0"};
  e.usage.memory_bytes = 1 << 20;
  auto j = to_json(e);
  EXPECT_EQ(j["track"], "canary");
  EXPECT_EQ(j["state"], "Ready");
  auto back = parse_engine_status(j, Unknown::reject);
  EXPECT_EQ(to_json(back), j);
  j["track"] = "blue";
  EXPECT_EQ(refused_field([&] { parse_engine_status(j); }), "track");
  j.erase("track");
  EXPECT_EQ(parse_engine_status(j).track, Track::stable);
  EXPECT_EQ(refused_field([&] { parse_engine_status({{"deployment", "chat"}}); }), "name");
  e.version.clear();  // an engine of a deployment without one, say
  EXPECT_EQ(parse_engine_status(to_json(e)).version, "");
}

TEST(ApiDeploymentStatus, RoundTripsWithARollout) {
  DeploymentStatus s;
  s.replicas = 3;
  s.ready_replicas = 2;
  s.canary_weight = 20;
  s.observed_generation = 4;
  RolloutStatus r;
  r.phase = RolloutPhase::paused;
  r.canary_version = "r2";
  r.current_step = 1;
  r.steps = 3;
  r.pause = RolloutPause{"2026-12-05T00:00:00Z", 1, std::nullopt};
  r.analysis = RolloutAnalysisStatus{1, 2, AnalysisReport{Verdict::failed, 40, 12, 0.7, 250.0, "why"}};
  s.rollout = r;
  auto j = to_json(s);
  EXPECT_EQ(j["rollout"]["phase"], "Paused");
  EXPECT_TRUE(j["rollout"]["pause"]["durationSeconds"].is_null());
  EXPECT_EQ(to_json(parse_deployment_status(j, Unknown::reject)), j);
  j["canaryWeight"] = 101;
  EXPECT_EQ(refused_field([&] { parse_deployment_status(j); }), "status.canaryWeight");
  auto view = parse_deployment_view({{"metadata", {{"name", "chat"}}}, {"spec", json::object()}, {"status", to_json(s)}});
  EXPECT_EQ(view.name, "chat");
  EXPECT_EQ(view.status.canary_weight, 20);
}

TEST(ApiTrafficReport, RoundTripsAndNamesTheBadField) {
  TrafficReport report;
  report.router = "router-1";
  report.seen_version = 41;
  report.in_flight = {{"chat-1", 3}};
  TrafficItem item;
  item.deployment = "chat";
  item.track = Track::canary;
  item.version = "r2";
  item.counts.requests = 10;
  item.counts.errors = {{"status5xx", 1}};
  item.counts.bounds = {0.1, 1};
  item.counts.buckets = {8, 1, 1};
  item.counts.duration_buckets = {2, 7, 1};
  report.items.push_back(item);
  auto j = to_json(report);
  auto back = parse_traffic_report(j);
  EXPECT_EQ(to_json(back), j);
  EXPECT_EQ(back.seen_version, 41u);
  EXPECT_EQ(back.in_flight, (std::map<std::string, uint64_t>{{"chat-1", 3}}));
  // A router from before drains sends neither: nothing in flight, no version seen.
  auto older = parse_traffic_report({{"router", "old"}, {"items", json::array()}});
  EXPECT_EQ(older.seen_version, 0u);
  EXPECT_TRUE(older.in_flight.empty());
  auto bad = j;
  bad["inFlight"]["chat-1"] = -1;
  EXPECT_EQ(refused_field([&] { parse_traffic_report(bad); }), "inFlight.chat-1");
  auto other_scale = j;
  other_scale["items"][0]["durationSeconds"]["bounds"] = {0.5, 1};
  EXPECT_EQ(refused_field([&] { parse_traffic_report(other_scale); }), "items[0].durationSeconds.bounds");
  j["items"][0]["firstByteSeconds"]["counts"] = {1, 2};
  EXPECT_EQ(refused_field([&] { parse_traffic_report(j); }), "items[0].firstByteSeconds");
  j["items"][0].erase("track");
  EXPECT_EQ(refused_field([&] { parse_traffic_report(j); }), "items[0].track");
}

TEST(ApiWatchEvent, WritesAndReadsEachKindOfLine) {
  auto snapshot = read_watch_event(snapshot_event(7, "e1", "node-a"));
  EXPECT_EQ(snapshot.type, WatchEventType::snapshot);
  EXPECT_EQ(snapshot.resource_version, 7u);
  EXPECT_EQ(snapshot.state_epoch, "e1");
  EXPECT_EQ(snapshot.node, "node-a");
  auto line = change_event(WatchEventType::deleted, kEngineKind, 8, {{"name", "chat-0"}});
  auto change = read_watch_event(line);
  EXPECT_EQ(change.type, WatchEventType::deleted);
  EXPECT_EQ(change.kind, "Engine");
  ASSERT_NE(change.object, nullptr);
  EXPECT_EQ((*change.object)["name"], "chat-0");
  EXPECT_EQ(read_watch_event(bookmark_event(9, "e1")).type, WatchEventType::bookmark);
  EXPECT_EQ(refused_field([] { read_watch_event({{"type", "ERROR"}}); }), "type");
  EXPECT_EQ(refused_field([] { read_watch_event({{"type", "ADDED"}, {"kind", "Route"}}); }), "object");
}

}  // namespace
}  // namespace duet::api
