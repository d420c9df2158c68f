#include "router/state_guard.h"

namespace duet::router {

namespace {
std::string shown(const std::string& epoch) { return epoch.empty() ? "(none)" : epoch; }
}  // namespace

std::optional<std::string> refusal(const SourceState& serving, const SourceState& offered) {
  if (!serving.synced()) return std::nullopt;
  // Without a stateEpoch, any snapshot may come from a duetd that started afresh.
  bool same_state =
      !offered.state_epoch().empty() && offered.state_epoch() == serving.state_epoch();
  if (same_state && offered.resource_version() < serving.resource_version())
    return "duetd went back to an older state (resourceVersion " +
           std::to_string(serving.resource_version()) + " -> " +
           std::to_string(offered.resource_version()) + " in stateEpoch " + offered.state_epoch() +
           "); keeping the last routes";
  if (!same_state && serving.routable() && !offered.routable())
    return "duetd lost its state (stateEpoch " + shown(serving.state_epoch()) + " -> " +
           shown(offered.state_epoch()) +
           ", the new one has no Route or no EngineDeployment); keeping the last routes";
  return std::nullopt;
}

}  // namespace duet::router
