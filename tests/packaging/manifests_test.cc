// Every example in manifests/examples/ (shipped in /usr/share/doc/duet/examples) through the
// real apply path: duetctl apply to a real duetd on a fake host that has what the examples
// were written for (a board of 8 Ascend 910B, 8 NVIDIA H20, a Kunpeng 920 with 4 NUMA nodes of
// 24 cores). Apply must succeed and every replica must be placed on its devices. The engines
// themselves (vllm, llama-server) are not installed here, so only the demo's reach Ready.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "packaging/package_files.h"
#include "support/duetd_harness.h"
#include "support/fake_tree.h"

namespace duet::test {
namespace {

struct Deployment {
  std::string name;
  int replicas = 1;
  int devices = 0;
};

struct Example {
  std::vector<std::string> runtime_classes, routes;
  std::vector<Deployment> deployments;
};

Example read_example(const std::string& file) {
  Example example;
  for (const auto& doc : YAML::LoadAllFromFile(source_path("manifests/examples/" + file).string())) {
    auto kind = doc["kind"].as<std::string>();
    auto name = doc["metadata"]["name"].as<std::string>();
    if (kind == "RuntimeClass") example.runtime_classes.push_back(name);
    if (kind == "Route") example.routes.push_back(name);
    if (kind == "EngineDeployment") {
      const auto& spec = doc["spec"];
      example.deployments.push_back({name, spec["replicas"].as<int>(),
                                     spec["resources"] ? spec["resources"]["devices"].as<int>() : 0});
    }
  }
  return example;
}

class ExampleManifest : public ::testing::TestWithParam<std::string> {
 protected:
  ExampleManifest() {
    tree_.add_ascend(8);
    for (int i = 0; i < 8; ++i) {
      FakeGpu gpu;
      gpu.minor = i;
      gpu.uuid = "GPU-5e4b1f2a-0c3d-4e5f-8a9b-00000000000" + std::to_string(i);
      gpu.model = "NVIDIA H20";
      gpu.bus_id = "0000:" + std::string(i < 4 ? "1" : "9") + std::to_string(i) + ":00.0";
      gpu.numa_node = i < 4 ? 0 : 1;
      tree_.add_nvidia_gpu(gpu);
    }
    tree_.add_nvidia_control();
    FakeCpus cpus;
    cpus.nodes = 4;
    cpus.cpus_per_node = 24;
    cpus.cpuinfo = FakeTree::kunpeng_cpuinfo(96);
    tree_.add_cpus(cpus);
    duetd_ = std::make_unique<DuetdHarness>(std::vector<std::string>{
        "--dev-root", tree_.path("dev"), "--sys-root", tree_.path("sys"), "--proc-root", tree_.path("proc")});
  }

  // The engines of `deployment` that hold `devices` devices each.
  int placed(const Deployment& deployment) {
    int count = 0;
    auto engines = duetd_->get("/apis/v1/engines");
    for (const auto& e : engines["items"])
      if (e["deployment"] == deployment.name && e["devices"].size() == static_cast<std::size_t>(deployment.devices))
        ++count;
    return count;
  }

  FakeTree tree_;
  std::unique_ptr<DuetdHarness> duetd_;
};

TEST_P(ExampleManifest, AppliesAndEveryReplicaIsPlaced) {
  auto file = GetParam();
  auto example = read_example(file);
  ASSERT_FALSE(example.deployments.empty()) << file;

  auto applied = duetd_->duetctl({"apply", "-f", source_path("manifests/examples/" + file).string()});
  ASSERT_EQ(applied.exit_code, 0) << applied.out;
  for (const auto& name : example.runtime_classes)
    EXPECT_EQ(duetd_->get("/apis/v1/runtimeclasses/" + name)["metadata"]["name"], name) << name;
  for (const auto& name : example.routes)
    EXPECT_EQ(duetd_->get("/apis/v1/routes/" + name)["metadata"]["name"], name) << name;

  for (const auto& deployment : example.deployments) {
    EXPECT_EQ(duetd_->get("/apis/v1/deployments/" + deployment.name)["metadata"]["name"], deployment.name);
    EXPECT_TRUE(eventually([&] { return placed(deployment) == deployment.replicas; }, 20s))
        << deployment.name << ": " << duetd_->get("/apis/v1/engines").dump(2);
    // Nothing waits for devices: the example fits the host it was written for.
    auto engines = duetd_->get("/apis/v1/engines");  // a range-for over a temporary's member dangles
    for (const auto& e : engines["items"]) {
      if (e["deployment"] == deployment.name) {
        EXPECT_EQ(e.value("message", "").find("insufficient"), std::string::npos) << e.dump();
      }
    }
  }
  if (file != "demo.yaml") return;
  // duet-sim is in this build: the demo's engines serve.
  for (const auto& deployment : example.deployments) {
    EXPECT_TRUE(eventually([&] { return duetd_->ready_engines(deployment.name) == deployment.replicas; }, 20s))
        << deployment.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleManifest, ::testing::ValuesIn(example_manifests()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.rfind('.'));
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

}  // namespace
}  // namespace duet::test
