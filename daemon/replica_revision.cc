#include "daemon/replica_revision.h"

#include "duet/api/watch_event.h"

namespace duet::daemon {

std::string handler_of(const Store& store, const manifest::EngineDeployment& deployment) {
  const auto& classes = store.objects(api::kRuntimeClassKind);
  auto it = classes.find(deployment.runtime_class);
  return it == classes.end() ? "" : std::get<manifest::RuntimeClass>(it->second.object).handler;
}

std::string replica_revision(const manifest::EngineDeployment& deployment, const std::string& handler) {
  auto spec = manifest::to_json(deployment)["spec"];
  spec.erase("replicas");
  spec.erase("strategy");
  spec["handler"] = handler;
  return spec.dump();
}

}  // namespace duet::daemon
