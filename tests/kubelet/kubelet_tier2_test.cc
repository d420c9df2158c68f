// Tier 2: kubelet's own device manager (1.20.2 from Debian's kubernetes source package, built
// by Debian's Go) drives the real duet-kubelet-plugin on a fake 910 board: Register,
// ListAndWatch, GetPreferredAllocation (4 devices: one whole HCCS ring), Allocate, and a
// device node removed turning one device unallocatable. kubelet_tier2.sh fetches and builds;
// it skips (exit 77) when the source or Go cannot be had. DUET_KUBELET_TIER2=0 skips it too.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>

#include "support/child_process.h"
#include "support/fake_tree.h"

namespace duet::test {
namespace {

TEST(KubeletDeviceManager, DrivesThePluginBinary) {
  if (const char* on = std::getenv("DUET_KUBELET_TIER2"); on && std::string(on) == "0")
    GTEST_SKIP() << "DUET_KUBELET_TIER2=0";
  FakeTree tree;
  tree.add_ascend(8);
  std::string args = "--dev-root " + tree.path("dev") + " --sys-root " + tree.path("sys") +
                     " --proc-root " + tree.path("proc") +
                     " --ascend-chip 910B --dcmi-library /nonexistent/libdcmi.so"
                     " --health-interval-ms 100";
  ChildProcess go({std::string(KUBELET_TEST_DIR) + "/kubelet_tier2.sh", KUBELET_TIER2_CACHE},
                  {{"DP_PLUGIN_BIN", bin("duet-kubelet-plugin")},
                   {"DP_RESOURCE", "huawei.com/Ascend910"},
                   {"DP_DEVICES", "8"},
                   {"DP_REQUEST", "4"},
                   {"DP_RING", "4"},
                   {"DP_REMOVE", tree.path("dev/davinci5")},
                   {"DP_PLUGIN_ARGS", args}});
  int status = go.wait(std::chrono::minutes(14));
  if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 77) {
    auto out = go.output();
    GTEST_SKIP() << out.substr(out.rfind("SKIP:"));
  }
  EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << go.output();
  EXPECT_NE(go.output().find("--- PASS: TestExternalPlugin"), std::string::npos) << go.output();
}

}  // namespace
}  // namespace duet::test
