#pragma once
// The part every plugin shares: scan the host, merge into the known devices, log health
// changes once, and snapshot the result into an Inventory that holds the allocation rules.

#include <memory>
#include <string>
#include <vector>

#include "deviceplugin/device_plugin.h"
#include "deviceplugin/device_table.h"
#include "duet/common/log.h"

namespace duet::deviceplugin {

class ScanningPlugin : public DevicePlugin {
 public:
  // DevicePlugin
  std::string_view handler() const override { return kind_; }
  std::vector<Device> discover() override;
  std::vector<Device> check_health() override;
  std::shared_ptr<const Inventory> inventory() const override;

 protected:
  explicit ScanningPlugin(std::string kind);

  // Looks at the host once: every device present now, with its health.
  virtual std::vector<Device> scan() = 0;
  // Why a device seen before is absent from this scan.
  virtual std::string missing_reason(const Device& device) const;
  // The snapshot of `devices` (the merged result of a scan) with a copy of whatever the
  // plugin's allocation rules read from that scan (topology, shared nodes, chip name).
  virtual std::shared_ptr<const Inventory> make_inventory(std::vector<Device> devices) const = 0;

  // Every device known before the scan in progress (after it: the scan's result too).
  const std::vector<Device>& known() const { return table_.devices(); }

  // Logs once that no name in `libraries` loaded, why, and what is read instead: warn where
  // devices of this kind are present (they lose detail), info where not (no driver, no devices).
  void report_library_unavailable(const std::vector<std::string>& libraries,
                                  const std::string& error, const std::string& fallback,
                                  bool devices_present) const;

  const Logger& log() const { return log_; }

 private:
  std::vector<Device> rescan();

  std::string kind_;
  Logger log_{"deviceplugin"};
  DeviceTable table_;
  bool scanned_ = false;
  std::shared_ptr<const Inventory> inventory_;  // of the last scan; null before the first
};

// Joins strings with `separator`: env values such as "0,1,2,3".
std::string join(const std::vector<std::string>& items, std::string_view separator = ",");

}  // namespace duet::deviceplugin
