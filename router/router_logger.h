#pragma once
// The router's logger: every line of duet-router carries component=router.

#include "duet/common/log.h"

namespace duet::router {

inline const Logger& router_logger() {
  static const Logger logger("router");
  return logger;
}

}  // namespace duet::router
