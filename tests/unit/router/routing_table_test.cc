#include "router/routing_table.h"

#include <gtest/gtest.h>

#include <set>

#include "router/watch_state.h"
#include "watch_objects.h"

namespace duet::router {
namespace {

using test::json;

json chat_snapshot() {
  return test::snapshot(
      7, json::array({test::size_route("chat", 100, "chat-small", "chat-large")}),
      json::array({test::deployment("chat-small"), test::deployment("chat-large", 10)}),
      json::array({test::engine("small-0", "chat-small", "127.0.0.1:20001"),
                   test::engine("small-1", "chat-small", "127.0.0.1:20002", false),
                   test::engine("large-0", "chat-large", "127.0.0.1:20003"),
                   test::engine("large-c", "chat-large", "127.0.0.1:20004", true, "canary")}));
}

std::shared_ptr<const RoutingTable> build(const SourceState& state, EndpointLoads& loads) {
  return RoutingTable::build({&state}, loads);
}

std::vector<std::string> names(const Pool& pool) {
  std::vector<std::string> out;
  for (const auto& e : pool) out.push_back(e.name);
  return out;
}

TEST(WatchState, SnapshotFillsTheState) {
  SourceState state;
  EXPECT_FALSE(state.synced());
  auto result = state.apply(chat_snapshot());
  EXPECT_TRUE(result.changed);
  EXPECT_TRUE(result.skipped.empty());
  EXPECT_TRUE(state.synced());
  EXPECT_EQ(state.resource_version(), 7u);
  EXPECT_EQ(state.routes().size(), 1u);
  EXPECT_EQ(state.engines().size(), 4u);
  EXPECT_EQ(state.deployments().at("chat-large").canary_weight, 10u);
}

TEST(WatchState, BadObjectsAreSkippedNotFatal) {
  SourceState state;
  json bad_route = test::backend_route("broken", "x");
  bad_route["spec"]["sizeRouting"] = {{"thresholdTokens", 1}, {"small", "a"}, {"large", "b"}};
  auto result = state.apply(test::snapshot(
      1, json::array({bad_route, test::backend_route("ok", "x")}), json::array(), json::array()));
  EXPECT_EQ(result.skipped.size(), 1u);
  EXPECT_EQ(state.routes().count("ok"), 1u);
  EXPECT_THROW(state.apply({{"type", "NONSENSE"}}), std::runtime_error);
}

TEST(WatchState, BookmarkMovesOnlyTheVersion) {
  SourceState state;
  state.apply(chat_snapshot());
  auto result = state.apply({{"type", "BOOKMARK"}, {"resourceVersion", 9}});
  EXPECT_FALSE(result.changed);
  EXPECT_EQ(state.resource_version(), 9u);
}

TEST(RoutingTable, BuildsReadyEndpointsByDeploymentAndTrack) {
  SourceState state;
  state.apply(chat_snapshot());
  EndpointLoads loads;
  auto table = build(state, loads);
  EXPECT_TRUE(table->synced());
  const Deployment* small = table->deployment("chat-small");
  const Deployment* large = table->deployment("chat-large");
  ASSERT_TRUE(small && large);
  EXPECT_EQ(names(small->stable), std::vector<std::string>{"small-0"});  // small-1 not ready
  EXPECT_EQ(names(large->stable), std::vector<std::string>{"large-0"});
  EXPECT_EQ(names(large->canary), std::vector<std::string>{"large-c"});
  EXPECT_EQ(large->canary_weight, 10u);
  EXPECT_EQ(small->stable[0].backend, "chat-small/small-0");
  EXPECT_EQ(small->stable[0].address.port(), 20001);
  ASSERT_EQ(table->routes().size(), 1u);
  EXPECT_EQ(table->routes()[0].small, small);
  EXPECT_EQ(table->routes()[0].large, large);
}

TEST(RoutingTable, EngineBecomingReadyAndUnready) {
  SourceState state;
  state.apply(chat_snapshot());
  EndpointLoads loads;
  state.apply(test::change("MODIFIED", "Engine", 8,
                           test::engine("small-1", "chat-small", "127.0.0.1:20002", true)));
  EXPECT_EQ(names(build(state, loads)->deployment("chat-small")->stable),
            (std::vector<std::string>{"small-0", "small-1"}));
  state.apply(test::change("MODIFIED", "Engine", 9,
                           test::engine("small-0", "chat-small", "127.0.0.1:20001", false)));
  EXPECT_EQ(names(build(state, loads)->deployment("chat-small")->stable),
            std::vector<std::string>{"small-1"});
}

TEST(RoutingTable, DeletedObjectsLeave) {
  SourceState state;
  state.apply(chat_snapshot());
  EndpointLoads loads;
  state.apply(test::change("DELETED", "Engine", 8, {{"name", "large-0"}}));
  EXPECT_TRUE(build(state, loads)->deployment("chat-large")->stable.empty());
  state.apply(test::change("DELETED", "Route", 9, {{"metadata", {{"name", "chat"}}}}));
  EXPECT_TRUE(build(state, loads)->routes().empty());
  state.apply(test::change("ADDED", "Route", 10, test::backend_route("r", "chat-small")));
  auto table = build(state, loads);
  ASSERT_EQ(table->routes().size(), 1u);
  EXPECT_EQ(table->routes()[0].backend, table->deployment("chat-small"));
}

TEST(RoutingTable, InFlightCountsSurviveARebuild) {
  SourceState state;
  state.apply(chat_snapshot());
  EndpointLoads loads;
  auto first = build(state, loads);
  first->deployment("chat-small")->stable[0].load->in_flight = 3;
  state.apply(test::change("MODIFIED", "Engine", 8,
                           test::engine("small-1", "chat-small", "127.0.0.1:20002", true)));
  auto second = build(state, loads);
  EXPECT_EQ(second->deployment("chat-small")->stable[0].load->in_flight.load(), 3u);
  EXPECT_EQ(second->deployment("chat-small")->stable[1].load->in_flight.load(), 0u);
}

TEST(RoutingTable, SourcesMergeEndpointsAndTheFirstWinsForRoutes) {
  SourceState a, b;
  a.apply(test::snapshot(1, json::array({test::backend_route("chat", "d", "/v1/")}),
                         json::array({test::deployment("d", 5)}),
                         json::array({test::engine("d-0", "d", "127.0.0.1:1")})));
  b.apply(test::snapshot(1, json::array({test::backend_route("chat", "other", "/v2/")}),
                         json::array({test::deployment("d", 50)}),
                         json::array({test::engine("d-0", "d", "127.0.0.2:1")})));
  EndpointLoads loads;
  auto table = RoutingTable::build({&a, &b}, loads);
  ASSERT_EQ(table->routes().size(), 1u);
  EXPECT_EQ(table->routes()[0].spec.path_prefix, "/v1/");
  EXPECT_EQ(table->deployment("d")->canary_weight, 5u);
  EXPECT_EQ(table->deployment("d")->stable.size(), 2u);
}

// One replica name on two nodes: x-duet-backend says which node's answered.
TEST(RoutingTable, OverSeveralNodesTheBackendNamesTheNode) {
  auto node_snapshot = [](const std::string& node, const std::string& address) {
    auto event = test::snapshot(1, json::array({test::backend_route("chat", "d")}), json::array({test::deployment("d")}),
                                json::array({test::engine("d-0", "d", address)}));
    event["node"] = node;
    return event;
  };
  SourceState a, b;
  a.apply(node_snapshot("gpu-node-1", "127.0.0.1:1"));
  b.apply(node_snapshot("npu-node-2", "127.0.0.2:1"));
  EndpointLoads loads;
  auto both = RoutingTable::build({&a, &b}, loads);
  std::set<std::string> backends;
  for (const auto& e : both->deployment("d")->stable) backends.insert(e.backend);
  EXPECT_EQ(backends, (std::set<std::string>{"d/d-0@gpu-node-1", "d/d-0@npu-node-2"}));
  // One node: the name as before.
  EXPECT_EQ(RoutingTable::build({&a}, loads)->deployment("d")->stable.at(0).backend, "d/d-0");
  // A node name that is not a host name's characters never reaches a header.
  SourceState odd;
  auto result = odd.apply(node_snapshot("evil\r\nx-injected: 1", "127.0.0.3:1"));
  EXPECT_EQ(odd.node(), "");
  EXPECT_EQ(result.skipped.size(), 1u);
  EXPECT_EQ(RoutingTable::build({&a, &odd}, loads)->deployment("d")->stable.at(1).backend, "d/d-0");
}

TEST(RoutingTable, NotSyncedBeforeAnySnapshot) {
  SourceState state;
  EndpointLoads loads;
  auto table = build(state, loads);
  EXPECT_FALSE(table->synced());
  EXPECT_TRUE(table->routes().empty());
  auto j = table->to_json();
  EXPECT_EQ(j["synced"], false);
}

TEST(RoutingTable, ListsModelsRoutesName) {
  SourceState state;
  state.apply(test::snapshot(
      1,
      json::array({test::backend_route("a", "d", "/v1/", "m2"),
                   test::backend_route("b", "d", "/v1/", "m1"),
                   test::backend_route("c", "d", "/v1/", "m1"), test::backend_route("d", "d")}),
      json::array(), json::array()));
  EndpointLoads loads;
  EXPECT_EQ(build(state, loads)->models(), (std::vector<std::string>{"m1", "m2"}));
}

}  // namespace
}  // namespace duet::router
