#include "deviceplugin/device_table.h"

#include <gtest/gtest.h>

namespace duet::deviceplugin {
namespace {

Device dev(int index, DeviceHealth health = {}) {
  Device d;
  d.kind = "ascend";
  d.id = std::to_string(index);
  d.index = index;
  d.health = std::move(health);
  return d;
}

std::string gone(const Device& d) { return "device " + d.id + " is gone"; }

TEST(DeviceTable, ReportsNewChangedAndVanishedDevicesOnce) {
  DeviceTable table;
  auto changed = table.merge({dev(1), dev(0)}, gone);
  ASSERT_EQ(changed.size(), 2u);          // both new
  EXPECT_EQ(table.devices()[0].id, "0");  // sorted by index

  EXPECT_TRUE(table.merge({dev(0), dev(1)}, gone).empty());

  changed = table.merge({dev(0)}, gone);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].id, "1");
  EXPECT_EQ(changed[0].health, DeviceHealth::unhealthy("device 1 is gone"));
  ASSERT_EQ(table.devices().size(), 2u);  // still listed: an engine may hold it

  EXPECT_TRUE(table.merge({dev(0)}, gone).empty());  // no repeat

  changed = table.merge({dev(0), dev(1)}, gone);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_TRUE(changed[0].health.ok());
}

TEST(DeviceTable, AReasonChangeIsAChange) {
  DeviceTable table;
  table.merge({dev(0, DeviceHealth::unhealthy("a"))}, gone);
  auto changed = table.merge({dev(0, DeviceHealth::unhealthy("b"))}, gone);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].health.reason, "b");
}

}  // namespace
}  // namespace duet::deviceplugin
