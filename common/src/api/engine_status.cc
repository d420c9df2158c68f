#include "duet/api/engine_status.h"

namespace duet::api {

using nlohmann::json;

json to_json(const EngineStatus& e) {
  json usage = json::object();
  if (e.usage.memory_bytes) usage["memoryBytes"] = *e.usage.memory_bytes;
  if (e.usage.cpu_seconds) usage["cpuSeconds"] = *e.usage.cpu_seconds;
  return {{"kind", "Engine"},
          {"name", e.name},
          {"deployment", e.deployment},
          {"replica", e.replica},
          {"version", e.version},
          {"track", to_string(e.track)},
          {"state", to_string(e.state)},
          {"ready", e.ready},
          {"endpoint", e.endpoint},
          {"port", e.port},
          {"pid", e.pid},
          {"startTime", e.start_time},
          {"restarts", e.restarts},
          {"lastExit", e.last_exit},
          {"devices", e.devices},
          {"message", e.message},
          {"cgroup", e.cgroup.empty() ? json() : json(e.cgroup)},
          {"usage", usage}};
}

EngineStatus parse_engine_status(const json& object, Unknown unknown) {
  FieldReader r(object, "", unknown);
  EngineStatus e;
  r.skip("kind");
  e.name = r.string("name");
  e.deployment = r.text("deployment");
  e.replica = static_cast<int>(r.integer("replica", 0, 0, INT32_MAX));
  e.version = r.text("version");
  e.track = r.choice("track", Track::stable, parse_track, "stable or canary");
  e.state = r.choice("state", EngineState::pending, parse_engine_state,
                     "Pending, Starting, Ready, Unready, Terminating or Draining");
  e.ready = r.boolean("ready", false);
  e.endpoint = r.text("endpoint");
  e.port = static_cast<uint16_t>(r.integer("port", 0, 0, 65535));
  e.pid = static_cast<int>(r.integer("pid", 0, 0, INT32_MAX));
  e.start_time = static_cast<uint64_t>(r.integer("startTime", 0, 0, INT64_MAX));
  e.restarts = static_cast<int>(r.integer("restarts", 0, 0, INT32_MAX));
  e.last_exit = r.text("lastExit");
  e.devices = r.string_list("devices", false);
  e.message = r.text("message");
  e.cgroup = r.text("cgroup");
  if (r.object("usage")) {
    FieldReader u = r.child("usage");
    if (u.has("memoryBytes"))
      e.usage.memory_bytes = static_cast<uint64_t>(u.integer("memoryBytes", 0, 0, INT64_MAX));
    if (u.has("cpuSeconds")) e.usage.cpu_seconds = u.number("cpuSeconds", 0, 0, 1e15);
    u.reject_unknown();
  }
  r.reject_unknown();
  return e;
}

}  // namespace duet::api
