#include "daemon/engine_events.h"

namespace duet::daemon {

using engine::EngineState;

EngineObservation observe(const engine::EngineInstance& instance) {
  return {instance.state(), instance.message(), instance.pid()};
}

void record_engine_events(EventLog& events, const EngineObservation& before,
                          const engine::EngineInstance& instance) {
  const auto& deployment = instance.config().identity.deployment;
  const auto& name = instance.name();
  auto now = observe(instance);
  auto normal = [&](const char* reason, const std::string& message) {
    events.normal(deployment, name, reason, message);
  };
  auto warning = [&](const char* reason, const std::string& message) {
    events.warning(deployment, name, reason, message);
  };
  if (now.pid != 0 && now.pid != before.pid) {
    auto where = "pid " + std::to_string(now.pid) + " on port " + std::to_string(instance.config().port);
    if (now.message.starts_with("adopted"))
      normal("Adopted", "took over running process " + where + " after a duetd restart");
    else
      normal("Started", "started process " + where);
  }
  if (now.state == before.state && now.message == before.message) return;
  switch (now.state) {
    case EngineState::ready:
      if (before.state != EngineState::ready) normal("Ready", "readiness probe passed");
      break;
    case EngineState::unready:
      warning("Unhealthy", "Readiness probe failed");
      break;
    case EngineState::pending:
      if (now.message.starts_with("CrashLoopBackOff")) {
        if (now.message.find("liveness probe failed") != std::string::npos)
          warning("Unhealthy", "Liveness probe failed; the process was killed");
        warning("BackOff", now.message);
      } else if (!now.message.empty()) {
        warning("FailedScheduling", now.message);
      }
      break;
    case EngineState::terminating:
      normal("Killing", "stopping the replica (SIGTERM, SIGKILL after " +
                            std::to_string(instance.config().grace.count()) + "s)");
      break;
    case EngineState::draining:
      normal("Draining", "no new requests; stopping once no router has one in flight, at most " +
                             std::to_string(instance.config().grace.count()) + "s from now");
      break;
    case EngineState::starting:
      break;
  }
}

}  // namespace duet::daemon
