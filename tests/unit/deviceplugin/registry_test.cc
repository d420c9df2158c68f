#include "deviceplugin/registry.h"

#include <gtest/gtest.h>

#include "support/fake_tree.h"

namespace duet::deviceplugin {
namespace {

TEST(Registry, HasOnePluginPerHandler) {
  test::FakeTree tree;
  RegistryOptions options;
  options.paths = tree.paths();
  Registry registry(options);
  for (const auto& name : Registry::handlers()) {
    auto* p = registry.plugin(name);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(p->handler(), name);
  }
  EXPECT_EQ(registry.plugin("tpu"), nullptr);
  EXPECT_EQ(registry.plugins().size(), 4u);
}

TEST(Registry, AnEmptyHostHasZeroDevicesEverywhere) {
  test::FakeTree tree;
  RegistryOptions options;
  options.paths = tree.paths();
  options.ascend.dcmi_libraries = {"/nonexistent/libdcmi.so"};
  options.nvidia.nvml_libraries = {"/nonexistent/libnvidia-ml.so.1"};
  options.mlu.cndev_libraries = {"/nonexistent/libcndev.so"};
  Registry registry(options);
  for (const auto& p : registry.plugins()) {
    EXPECT_TRUE(p->discover().empty()) << p->handler();
    EXPECT_TRUE(p->check_health().empty()) << p->handler();
    auto r = p->allocate(2, {});
    EXPECT_FALSE(r);
    EXPECT_EQ(r.reason, "insufficient " + std::string(p->handler()) + " devices: need 2, free 0");
  }
}

}  // namespace
}  // namespace duet::deviceplugin
