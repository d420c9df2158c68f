// Tier 1: duet-kubelet-plugin driven by a fake kubelet on the current device-plugin API
// (fake_kubelet.py, Debian's python3-grpcio): every RPC, the modern register order, health
// changes within a second, the 910 ring rules, kubelet restarts and hostile requests, on fake
// device trees of each vendor. Each scenario is one test; the script prints a line per check.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "support/child_process.h"
#include "support/fake_tree.h"

namespace duet::test {
namespace {

constexpr const char* kPython = "/usr/bin/python3";  // Debian's, which sees python3-grpcio

bool python_has_grpc() {
  ChildProcess probe({kPython, "-c", "import grpc, google.protobuf"});
  int status = probe.wait(30s);
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Runs one scenario of fake_kubelet.py against the plugin on `tree`, `extra` flags added.
void run_fake_kubelet(const std::string& scenario, const FakeTree& tree,
                      std::vector<std::string> extra) {
  if (!python_has_grpc()) GTEST_SKIP() << kPython << " lacks grpc (python3-grpcio)";
  std::vector<std::string> argv = {kPython,    std::string(KUBELET_TEST_DIR) + "/fake_kubelet.py",
                                   "--scenario", scenario,
                                   "--root",     tree.root().string(),
                                   "--plugin",   bin("duet-kubelet-plugin"),
                                   "--"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  ChildProcess kubelet(argv, {{"PYTHONPATH", KUBELET_PY_GEN}});
  int status = kubelet.wait(120s);
  EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << kubelet.output();
}

FakeGpu kubelet_gpu(int minor, const std::string& uuid, const std::string& bus_id, int numa) {
  FakeGpu gpu;
  gpu.minor = minor;
  gpu.uuid = uuid;
  gpu.bus_id = bus_id;
  gpu.numa_node = numa;
  return gpu;
}

TEST(KubeletPlugin, Ascend910RingsAllocateAndHealth) {
  FakeTree tree;
  tree.add_ascend(8);
  tree.write("driver/usr/local/Ascend/driver/version.info", "Version=24.1.0\n");
  run_fake_kubelet("ascend", tree,
                   {"--ascend-chip", "910B", "--driver-root", tree.path("driver")});
}

TEST(KubeletPlugin, NvidiaGpusWithNumaAndCdi) {
  FakeTree tree;
  tree.add_nvidia_gpu(kubelet_gpu(0, "GPU-00000000-0000-0000-0000-000000000000", "0000:00:06.0", 0));
  FakeGpu far = kubelet_gpu(1, "GPU-11111111-1111-1111-1111-111111111111", "0000:80:06.0", 1);
  far.host_bridge = "pci0000:80";
  tree.add_nvidia_gpu(far);
  tree.add_nvidia_control();
  run_fake_kubelet("nvidia", tree, {"--cdi", "--driver-root", tree.path("driver")});
}

TEST(KubeletPlugin, CambriconMlus) {
  FakeTree tree;
  tree.add_cambricon(4);
  tree.write("driver/usr/bin/cnmon", "");
  run_fake_kubelet("mlu", tree, {"--driver-root", tree.path("driver")});
}

TEST(KubeletPlugin, MixedServerAcrossKubeletRestartsAndShutdown) {
  FakeTree tree;
  tree.add_ascend(8);
  tree.add_nvidia_gpu(kubelet_gpu(0, "GPU-22222222-2222-2222-2222-222222222222", "0000:00:07.0", -1));
  tree.add_nvidia_control();
  tree.add_cambricon(2);
  run_fake_kubelet("lifecycle", tree, {"--ascend-chip", "910B"});
}

TEST(KubeletPlugin, MalformedRequestsAreGrpcErrors) {
  FakeTree tree;
  tree.add_ascend(8);
  run_fake_kubelet("malformed", tree, {"--ascend-chip", "910B"});
}

TEST(KubeletPlugin, BadFlagsExitTwo) {
  for (const auto& flag : {"--resource=example.com/cpu=cpu", "--resource=gpu=nvidia",
                           "--resource=kubernetes.io/gpu=nvidia", "--health-interval-ms=0"}) {
    ChildProcess plugin({bin("duet-kubelet-plugin"), flag});
    int status = plugin.wait(10s);
    EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 2)
        << flag << ": " << plugin.output();
  }
}

}  // namespace
}  // namespace duet::test
