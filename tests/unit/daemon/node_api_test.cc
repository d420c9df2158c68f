// The node API's handlers in-process: a whole Node on a thread of the test, over a fake device
// tree, called on its unix socket. Each row is one request and what must come back; the rows
// that change state check that a refused change stored nothing. The long process tests keep
// what needs a real duetd (signals, restarts, engines).
#include "daemon/node.h"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <thread>

#include "duet/common/http_client.h"
#include "support/fake_tree.h"
#include "support/temp_dir.h"

namespace duet::daemon {
namespace {

using namespace std::chrono_literals;
using http::bhttp::verb;

const char* kClass = "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: cpu}\nhandler: cpu\n";
// No replicas: the API is under test, not engines (reconciler_test.cc has those).
const char* kDeployment =
    "apiVersion: duet/v1alpha1\nkind: EngineDeployment\nmetadata: {name: small}\n"
    "spec: {runtimeClassName: cpu, replicas: 0, template: {command: [sleep, '600']}}\n";
const char* kRoute = "apiVersion: duet/v1alpha1\nkind: Route\nmetadata: {name: chat}\nspec: {backend: small}\n";

class NodeApiTest : public ::testing::Test {
 protected:
  NodeApiTest() {
    tree_.add_cpus({});
    DaemonOptions o;
    o.api = {"unix:" + dir_.path().string() + "/api.sock"};
    o.state_dir = dir_.path().string() + "/state";
    o.dev_root = tree_.path("dev");
    o.sys_root = tree_.path("sys");
    o.proc_root = tree_.path("proc");
    o.cgroup_root = "none";
    o.port_range = "43000-43010";
    node_ = std::make_unique<Node>(io_, o);
    node_->start();
    api_ = Address::parse(o.api[0]);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~NodeApiTest() override {
    boost::asio::post(io_, [this] { node_->stop(); });
    io_.stop();
    thread_.join();
  }

  http::ClientResponse call(verb method, const std::string& target, std::string body = {}) {
    return http::fetch_sync(api_, http::make_request(method, target, api_, std::move(body)), 5s);
  }
  nlohmann::json get(const std::string& target) {
    return nlohmann::json::parse(call(verb::get, target).body());
  }
  void apply(const std::string& yaml) {
    auto res = call(verb::post, "/apis/v1/apply?source=t.yaml", yaml);
    ASSERT_EQ(res.result_int(), 200) << res.body();
  }

  test::TempDir dir_;
  test::FakeTree tree_;
  boost::asio::io_context io_;
  std::unique_ptr<Node> node_;
  Address api_;
  std::thread thread_;
};

struct Row {
  verb method;
  std::string target;
  std::string body;
  int status;
  std::string says;  // a piece of the body
};

TEST_F(NodeApiTest, EachRequestGetsItsAnswer) {
  apply(std::string(kClass) + "---\n" + kDeployment);
  const std::vector<Row> rows = {
      {verb::get, "/healthz", "", 200, "ok"},
      {verb::get, "/metrics", "", 200, "duet_devices"},
      {verb::get, "/elsewhere", "", 404, "no such API path: /elsewhere"},
      {verb::get, "/apis/v1/nothing", "", 404, "no such resource: nothing"},
      {verb::get, "/apis/v1/deployments/missing", "", 404, "EngineDeployment \\\"missing\\\" not found"},
      {verb::get, "/apis/v1/deployments%ZZ", "", 400, "bad percent-encoding in the path"},
      {verb::get, "/apis/v1/apply", "", 405, "apply takes POST"},
      {verb::post, "/apis/v1/events", "", 405, "events takes GET"},
      {verb::post, "/apis/v1/watch", "", 405, "watch takes GET"},
      {verb::put, "/apis/v1/traffic", "", 405, "traffic takes POST or GET"},
      {verb::get, "/apis/v1/traffic", "", 200, "\"windowSeconds\":2"},
      {verb::get, "/ui/", "", 200, "<!doctype html>"},
      {verb::post, "/ui/", "", 405, "the dashboard's files take GET"},
      {verb::get, "/ui/missing.js", "", 404, "no such dashboard file"},
      {verb::put, "/apis/v1/deployments/small", "", 405, "method PUT not allowed"},
      {verb::delete_, "/apis/v1/routes", "", 405, "DELETE takes"},
      {verb::delete_, "/apis/v1/routes/none", "", 404, "Route \\\"none\\\" not found"},
      {verb::delete_, "/apis/v1/runtimeclasses/cpu", "", 409, "small"},
      {verb::get, "/apis/v1/engines/none", "", 404, "engine \\\"none\\\" not found"},
      {verb::get, "/apis/v1/engines/../logs", "", 404, "no such API path"},
      {verb::get, "/apis/v1/devices/none", "", 404, "device \\\"none\\\" not found"},
      {verb::get, "/apis/v1/watch?resourceVersion=abc", "", 400, "resourceVersion must be a number"},
      {verb::get, "/apis/v1/engines/small-0/logs?tailLines=x", "", 400, "tailLines must be a number"},
      {verb::post, "/apis/v1/deployments/missing/rollout/promote", "", 404, "EngineDeployment \\\"missing\\\" not found"},
      {verb::post, "/apis/v1/deployments/small/rollout/jump", "", 404, "no rollout action \\\"jump\\\""},
      {verb::post, "/apis/v1/deployments/small/scale", "", 404, "rollout/{promote,abort,retry}"},
      {verb::post, "/apis/v1/traffic", "not json", 400, "body: expected JSON"},
      {verb::post, "/apis/v1/apply?source=%ZZ", kRoute, 400, "source: bad percent-encoding"},
  };
  for (const auto& row : rows) {
    auto res = call(row.method, row.target, row.body);
    EXPECT_EQ(res.result_int(), row.status) << row.target << ": " << res.body();
    EXPECT_NE(res.body().find(row.says), std::string::npos) << row.target << ": " << res.body();
  }
  // The API kept serving through every refusal, and nothing of them was stored.
  EXPECT_EQ(get("/apis/v1/routes")["items"].size(), 0u);
  EXPECT_EQ(get("/apis/v1/runtimeclasses")["items"].size(), 1u);
}

TEST_F(NodeApiTest, ARefusedApplyNamesTheFieldAndStoresNothing) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {std::string(kClass) + "---\n" + kRoute, "t.yaml[1] spec.backend: EngineDeployment \\\"small\\\" not found"},
      {std::string(kClass) + "---\nkind: Route\n", "t.yaml[1]"},
      {"apiVersion: duet/v1alpha1\nkind: EngineDeployment\nmetadata: {name: small}\n"
       "spec: {runtimeClassName: cpu, replicas: -1, template: {command: [sleep]}}\n",
       "spec.replicas"},
      {std::string(kClass) + "---\n" + "apiVersion: duet/v1alpha1\nkind: Route\nmetadata: {name: chat}\n"
       "spec: {backend: small, retries: {attempts: 0}}\n",
       "retries.attempts"},
      {std::string("metadata: {name: caf\xe9}\n"), "not valid UTF-8 at byte"},
  };
  for (const auto& [yaml, says] : bad) {
    auto res = call(verb::post, "/apis/v1/apply?source=t.yaml", yaml);
    EXPECT_EQ(res.result_int(), 400) << yaml;
    EXPECT_NE(res.body().find(says), std::string::npos) << res.body();
  }
  for (const auto* kind : {"runtimeclasses", "deployments", "routes"})
    EXPECT_EQ(get(std::string("/apis/v1/") + kind)["items"].size(), 0u) << kind;
  // Each refusal is in the audit log, with who asked (the socket peer's uid).
  auto audit = get("/apis/v1/events")["items"];
  ASSERT_EQ(audit.size(), bad.size());
  for (const auto& entry : audit) {
    EXPECT_EQ(entry["action"], "apply");
    EXPECT_EQ(entry["status"], 400);
    EXPECT_EQ(entry["user"], "uid:" + std::to_string(::getuid()));
  }
}

TEST_F(NodeApiTest, AnAppliedDeploymentReadsBackWithStatusAndCanBeDeletedInOrder) {
  apply(std::string(kClass) + "---\n" + kDeployment + "---\n" + kRoute);
  auto deployment = get("/apis/v1/deployments/small");
  EXPECT_EQ(deployment["metadata"]["name"], "small");
  EXPECT_EQ(deployment["metadata"]["generation"], 1);
  EXPECT_EQ(deployment["status"]["replicas"], 0);
  EXPECT_EQ(deployment["status"]["observedGeneration"], 1);
  // Referred to by the route: refused, until the route goes.
  EXPECT_EQ(call(verb::delete_, "/apis/v1/deployments/small").result_int(), 409);
  EXPECT_EQ(call(verb::delete_, "/apis/v1/routes/chat").result_int(), 200);
  EXPECT_EQ(call(verb::delete_, "/apis/v1/deployments/small").result_int(), 200);
  EXPECT_EQ(get("/apis/v1/deployments")["items"].size(), 0u);
  // A deployment without a rollout has nothing to promote.
  apply(kDeployment);
  auto res = call(verb::post, "/apis/v1/deployments/small/rollout/promote");
  EXPECT_EQ(res.result_int(), 409) << res.body();
}

TEST_F(NodeApiTest, TheFakeTreesCpusAreListedAsDevices) {
  auto devices = get("/apis/v1/devices")["items"];
  ASSERT_FALSE(devices.empty());
  auto first = devices[0]["id"].get<std::string>();
  EXPECT_EQ(get("/apis/v1/devices/" + first)["id"], first);
  EXPECT_EQ(devices[0]["engine"], "");
}

}  // namespace
}  // namespace duet::daemon
