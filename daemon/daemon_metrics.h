#pragma once
// duetd's Prometheus metrics (SPEC §7), derived at scrape time from the device manager and the
// reconcile loop, so no counter can drift from the state it describes.

#include <string>

#include "daemon/device_manager.h"
#include "daemon/reconciler.h"

namespace duet::daemon {

class DaemonMetrics {
 public:
  DaemonMetrics(const DeviceManager& devices, const Reconciler& reconciler)
      : devices_(devices), reconciler_(reconciler) {}

  // The Prometheus text exposition of every duetd metric.
  std::string render() const;

 private:
  const DeviceManager& devices_;
  const Reconciler& reconciler_;
};

}  // namespace duet::daemon
