#pragma once
// The part every plugin shares: scan the host, merge into the known devices, log health
// changes once, and hand the free healthy devices to the plugin's own allocation rules.

#include <set>
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
  std::vector<Device> devices() const override { return table_.devices(); }

 protected:
  explicit ScanningPlugin(std::string kind);

  // Looks at the host once: every device present now, with its health.
  virtual std::vector<Device> scan() = 0;
  // Why a device seen before is absent from this scan.
  virtual std::string missing_reason(const Device& device) const;

  // Healthy known devices whose id is in `free_ids`, sorted by index.
  std::vector<const Device*> free_healthy(const std::set<std::string>& free_ids) const;
  // `count` of `free` (enough of them) that share a NUMA node where possible, best fit: the
  // placement for devices whose links duet cannot see.
  std::vector<const Device*> pick_by_numa(const std::vector<const Device*>& free,
                                          std::size_t count) const;
  // "insufficient ascend devices: need 2, free 0": the words duetd shows for a Pending replica.
  std::string insufficient(std::size_t need, std::size_t free) const;
  // The allocation common to accelerators: ids, the devices' nodes plus `shared_nodes`, and
  // the NUMA node when every device sits on the same one. The caller adds the env.
  Allocation accelerator_allocation(const std::vector<const Device*>& chosen,
                                    const std::vector<std::string>& shared_nodes) const;

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
};

// Joins strings with `separator`: env values such as "0,1,2,3".
std::string join(const std::vector<std::string>& items, std::string_view separator = ",");

}  // namespace duet::deviceplugin
