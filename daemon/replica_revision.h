#pragma once
// What a replica is built from. The Reconciler replaces a replica whose revision changed; the
// RolloutController tells a new revision from the stable one the same way.

#include <string>

#include "daemon/manifest/objects.h"
#include "daemon/store.h"

namespace duet::daemon {

// The device plugin a deployment's RuntimeClass names; "" when the class is not stored.
std::string handler_of(const Store& store, const manifest::EngineDeployment& deployment);

// Everything a running replica is made from but its count and rollout strategy: when it
// changes, the replica is replaced.
std::string replica_revision(const manifest::EngineDeployment& deployment, const std::string& handler);

}  // namespace duet::daemon
