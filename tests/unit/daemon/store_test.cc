#include "daemon/store.h"

#include <gtest/gtest.h>

#include "duet/common/http_error.h"

namespace duet::daemon {
namespace {

const char* kClass = "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: cpu}\nhandler: cpu\n";
const char* kDeployment =
    "apiVersion: duet/v1alpha1\nkind: EngineDeployment\nmetadata: {name: small}\n"
    "spec: {runtimeClassName: cpu, replicas: 1, template: {command: [duet-sim]}}\n";
const char* kRoute = "apiVersion: duet/v1alpha1\nkind: Route\nmetadata: {name: chat}\nspec: {backend: small}\n";

class StoreTest : public ::testing::Test {
 protected:
  std::vector<ApplyOutcome> apply(const std::string& text) {
    return store_.apply(manifest::parse_manifests(text, "t.yaml"), "t.yaml");
  }
  boost::asio::io_context io_;
  WatchHub hub_{io_};
  Store store_{hub_};
};

TEST_F(StoreTest, CreatedConfiguredUnchanged) {
  auto first = apply(std::string(kClass) + "---\n" + kDeployment);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[1].result, "created");
  EXPECT_EQ(apply(kDeployment)[0].result, "unchanged");
  std::string scaled = kDeployment;
  scaled.replace(scaled.find("replicas: 1"), 11, "replicas: 3");
  EXPECT_EQ(apply(scaled)[0].result, "configured");
  const auto& stored = store_.objects("EngineDeployment").at("small");
  EXPECT_EQ(stored.generation, 2);
  EXPECT_EQ(hub_.resource_version(), 3u);  // created, created, configured
}

TEST_F(StoreTest, UnknownReferenceStoresNothing) {
  try {
    apply(std::string(kDeployment) + "---\n" + kRoute);
    FAIL() << "expected an error";
  } catch (const manifest::ApplyError& e) {
    EXPECT_STREQ(e.what(), "t.yaml[0] spec.runtimeClassName: RuntimeClass \"cpu\" not found");
  }
  EXPECT_TRUE(store_.objects("EngineDeployment").empty());
  EXPECT_TRUE(store_.objects("Route").empty());
  EXPECT_EQ(hub_.resource_version(), 0u);
}

TEST_F(StoreTest, RouteToUnknownDeploymentStoresNothing) {
  apply(kClass);
  std::string route = kRoute;
  route.replace(route.find("backend: small"), 14, "backend: large");
  try {
    apply(std::string(kDeployment) + "---\n" + route);
    FAIL() << "expected an error";
  } catch (const manifest::ApplyError& e) {
    EXPECT_STREQ(e.what(), "t.yaml[1] spec.backend: EngineDeployment \"large\" not found");
  }
  EXPECT_TRUE(store_.objects("EngineDeployment").empty());
}

TEST_F(StoreTest, DeleteRefusesWhileReferenced) {
  apply(std::string(kClass) + "---\n" + kDeployment + "---\n" + kRoute);
  try {
    store_.remove("EngineDeployment", "small");
    FAIL() << "expected an error";
  } catch (const HttpError& e) {
    EXPECT_EQ(e.status(), 409);
  }
  store_.remove("Route", "chat");
  store_.remove("EngineDeployment", "small");
  EXPECT_TRUE(store_.objects("EngineDeployment").empty());
  EXPECT_THROW(store_.remove("Route", "chat"), HttpError);
}

TEST_F(StoreTest, AFailedCheckpointWriteUndoesTheApply) {
  apply(kClass);
  uint64_t version = hub_.resource_version();
  store_.set_persist([] { throw std::system_error(EIO, std::generic_category(), "write checkpoint.json"); });
  EXPECT_THROW(apply(kDeployment), std::system_error);
  EXPECT_TRUE(store_.objects("EngineDeployment").empty());
  EXPECT_EQ(hub_.resource_version(), version);  // nothing was published
  EXPECT_THROW(store_.remove("RuntimeClass", "cpu"), std::system_error);
  EXPECT_EQ(store_.objects("RuntimeClass").size(), 1u);
}

TEST_F(StoreTest, CheckpointRoundTrip) {
  int writes = 0;
  store_.set_persist([&] { ++writes; });
  apply(std::string(kClass) + "---\n" + kDeployment + "---\n" + kRoute);
  apply(std::string(kDeployment).replace(std::string(kDeployment).find("replicas: 1"), 11, "replicas: 3"));
  EXPECT_EQ(writes, 2);
  auto saved = nlohmann::json::parse(store_.checkpoint_json().dump());

  WatchHub other_hub(io_);
  Store restored(other_hub);
  EXPECT_TRUE(restored.restore(saved).empty());
  EXPECT_EQ(restored.list_json("Route"), store_.list_json("Route"));
  const auto& deployment = restored.objects("EngineDeployment").at("small");
  EXPECT_EQ(deployment.generation, 2);
  EXPECT_EQ(deployment.resource_version, store_.objects("EngineDeployment").at("small").resource_version);

  // An object that no longer validates is named and left out; the rest comes back.
  saved["Route"][0]["manifest"]["spec"]["bogus"] = 1;
  Store partial(other_hub);
  auto problems = partial.restore(saved);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("Route \"chat\""), std::string::npos) << problems[0];
  EXPECT_EQ(partial.objects("EngineDeployment").size(), 1u);
}

}  // namespace
}  // namespace duet::daemon
