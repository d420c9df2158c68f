#include "deviceplugin/mlu/mlu_plugin.h"

#include <gmock/gmock.h>

#include "support/fake_tree.h"

namespace duet::deviceplugin {
namespace {

using testing::HasSubstr;

MluOptions without_cndev() {
  MluOptions o;
  o.cndev_libraries = {"/nonexistent/libcndev.so"};
  return o;
}

TEST(MluPlugin, DiscoversCambriconNodes) {
  test::FakeTree tree;
  tree.add_cambricon(4);
  MluPlugin plugin(tree.paths(), without_cndev());
  testing::internal::CaptureStderr();
  auto devices = plugin.discover();
  std::string log = testing::internal::GetCapturedStderr();
  ASSERT_EQ(devices.size(), 4u);
  EXPECT_EQ(devices[3].kind, "mlu");
  EXPECT_EQ(devices[3].id, "3");
  EXPECT_EQ(devices[3].model, "Cambricon MLU");
  EXPECT_TRUE(devices[3].health.ok());
  EXPECT_EQ(plugin.source().name, "devfs");
  EXPECT_THAT(log, HasSubstr("level=warn component=deviceplugin event=vendor_library_unavailable "
                             "library=/nonexistent/libcndev.so"));
}

TEST(MluPlugin, AllocationSetsBothVisibleDeviceVariables) {
  test::FakeTree tree;
  tree.add_cambricon(4);
  MluPlugin plugin(tree.paths(), without_cndev());
  plugin.discover();
  auto result = plugin.allocate(2, {"1", "2", "3"});
  ASSERT_TRUE(result) << result.reason;
  const auto& a = *result.allocation;
  EXPECT_EQ(a.device_ids, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(a.env.at("MLU_VISIBLE_DEVICES"), "1,2");
  EXPECT_EQ(a.env.at("CAMBRICON_VISIBLE_DEVICES"), "1,2");
  EXPECT_EQ(a.device_nodes, (std::vector<std::string>{tree.path("dev/cambricon_ctl"),
                                                      tree.path("dev/cambricon_dev1"),
                                                      tree.path("dev/cambricon_dev2")}));
  EXPECT_EQ(plugin.allocate(4, {"1", "2", "3"}).reason, "insufficient mlu devices: need 4, free 3");
}

TEST(MluPlugin, HealthFollowsNodes) {
  test::FakeTree tree;
  tree.add_cambricon(4);
  MluPlugin plugin(tree.paths(), without_cndev());
  plugin.discover();
  tree.remove("dev/cambricon_dev2");
  auto changed = plugin.check_health();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_THAT(changed[0].health.reason, HasSubstr("cambricon_dev2 is missing"));
  tree.write("dev/cambricon_dev2");
  EXPECT_TRUE(plugin.check_health().at(0).health.ok());

  tree.remove("dev/cambricon_ctl");
  EXPECT_EQ(plugin.check_health().size(), 4u);
  EXPECT_THAT(plugin.devices()[0].health.reason, HasSubstr("cambricon_ctl is missing"));
}

}  // namespace
}  // namespace duet::deviceplugin
