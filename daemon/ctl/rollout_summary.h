#pragma once
// One line on where a deployment's rollout stands, from its status.rollout: what
// `rollout status --watch` prints per change and `describe` shows.

#include <string>

#include "duet/api/deployment_status.h"

namespace duet::ctl {

// "Paused  step 2/4  weight 10%  stable r1 2/2  canary r2 1/1  last analysis: 120 requests,
// 100.0% ok, p99 12 ms (0/2 failed)  step 2/4: pause 30s"
std::string rollout_summary(const api::RolloutStatus& rollout);

}  // namespace duet::ctl
