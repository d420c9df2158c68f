#pragma once
// Turns the changes of a replica (as its instance reports them) into Kubernetes-style
// events: Started, Adopted, Ready, Unhealthy, BackOff, FailedScheduling, Killing.

#include <sys/types.h>

#include <string>

#include "daemon/event_log.h"
#include "engine/instance/engine_instance.h"

namespace duet::daemon {

// What a replica looked like when last reported.
struct EngineObservation {
  engine::EngineState state = engine::EngineState::pending;
  std::string message;
  pid_t pid = 0;
};

EngineObservation observe(const engine::EngineInstance& instance);

// Records in `events` what changed between `before` and `instance` now.
void record_engine_events(EventLog& events, const EngineObservation& before,
                          const engine::EngineInstance& instance);

}  // namespace duet::daemon
