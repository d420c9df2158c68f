#pragma once
// Static stability: whether the state a duetd offers on a new watch connection may replace
// the one the router routes with. A duetd that lost its state, or went back to an older
// one, must not take routes away from engines that still run.

#include <optional>
#include <string>

#include "router/watch_state.h"

namespace duet::router {

// Why `offered` must not replace `serving` (both from the same source), or nullopt when it
// may. Refused: a lower resourceVersion in the same stateEpoch; a state that is not
// routable() from another (or no) stateEpoch when `serving` is routable.
std::optional<std::string> refusal(const SourceState& serving, const SourceState& offered);

}  // namespace duet::router
