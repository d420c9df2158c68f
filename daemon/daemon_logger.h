#pragma once
// duetd's loggers, one per component: the `component` field of each line says which part of
// duetd wrote it (duetd: start-up and listeners; reconcile: replicas; checkpoint: the state on
// disk; adopt: engines found running at start-up; rollout: canary steps; audit: changes
// through the API; watch: watch streams; devices: the plugins). Named once here, not as a
// `logger()` in each file: the sanitized build compiles several files as one (CMake's unity
// build), where two such functions collide.

#include "duet/common/log.h"

namespace duet::daemon {

// clang-format off
inline const Logger& duetd_logger()      { static const Logger log("duetd");      return log; }
inline const Logger& reconcile_logger()  { static const Logger log("reconcile");  return log; }
inline const Logger& checkpoint_logger() { static const Logger log("checkpoint"); return log; }
inline const Logger& adopt_logger()      { static const Logger log("adopt");      return log; }
inline const Logger& rollout_logger()    { static const Logger log("rollout");    return log; }
inline const Logger& audit_logger()      { static const Logger log("audit");      return log; }
inline const Logger& watch_logger()      { static const Logger log("watch");      return log; }
inline const Logger& devices_logger()    { static const Logger log("devices");    return log; }
// clang-format on

}  // namespace duet::daemon
