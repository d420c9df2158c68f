#pragma once
// duetd's Prometheus metrics (SPEC §7), derived at scrape time from the device manager, the
// reconcile loop and the rollout controller, so no counter can drift from the state it describes.

#include <string>

#include "daemon/device_manager.h"
#include "daemon/reconciler.h"
#include "daemon/rollout/rollout_controller.h"

namespace duet::daemon {

class DaemonMetrics {
 public:
  DaemonMetrics(const DeviceManager& devices, const Reconciler& reconciler,
                const RolloutController& rollouts)
      : devices_(devices), reconciler_(reconciler), rollouts_(rollouts) {}

  // The Prometheus text exposition of every duetd metric.
  std::string render() const;

 private:
  const DeviceManager& devices_;
  const Reconciler& reconciler_;
  const RolloutController& rollouts_;
};

}  // namespace duet::daemon
