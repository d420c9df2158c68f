#include "engine/instance/engine_config_json.h"

#include <stdexcept>

namespace duet::engine {

using nlohmann::json;

namespace {

json probe_to_json(const std::optional<ProbeSpec>& probe) {
  if (!probe) return nullptr;
  return {{"path", probe->path},
          {"periodSeconds", probe->period_seconds},
          {"timeoutSeconds", probe->timeout_seconds},
          {"failureThreshold", probe->failure_threshold},
          {"initialDelaySeconds", probe->initial_delay_seconds}};
}

std::optional<ProbeSpec> probe_from_json(const json& j) {
  if (j.is_null()) return std::nullopt;
  ProbeSpec p;
  p.path = j.at("path").get<std::string>();
  p.period_seconds = j.at("periodSeconds").get<int>();
  p.timeout_seconds = j.at("timeoutSeconds").get<int>();
  p.failure_threshold = j.at("failureThreshold").get<int>();
  p.initial_delay_seconds = j.at("initialDelaySeconds").get<int>();
  return p;
}

json limits_to_json(const ResourceLimits& l) {
  json j = json::object();
  if (l.memory_bytes) j["memoryBytes"] = *l.memory_bytes;
  if (l.pids) j["pids"] = *l.pids;
  return j;
}

ResourceLimits limits_from_json(const json& j) {
  ResourceLimits l;
  if (j.contains("memoryBytes")) l.memory_bytes = j.at("memoryBytes").get<uint64_t>();
  if (j.contains("pids")) l.pids = j.at("pids").get<uint64_t>();
  return l;
}

api::Track track_at(const json& identity) {
  auto text = identity.at("track").get<std::string>();
  auto track = api::parse_track(text);
  if (!track) throw std::invalid_argument("identity.track: expected stable or canary, got \"" + text + "\"");
  return *track;
}

}  // namespace

json config_to_json(const EngineConfig& c) {
  const auto& id = c.identity;
  return {{"identity",
           {{"name", id.name}, {"deployment", id.deployment}, {"replica", id.replica},
            {"version", id.version}, {"track", api::to_string(id.track)}}},
          {"launch",
           {{"argv", c.launch.argv}, {"env", c.launch.env}, {"logPath", c.launch.log_path},
            {"cpus", c.launch.cpus}, {"limits", limits_to_json(c.launch.limits)}}},
          {"host", c.host},
          {"port", c.port},
          {"devices", c.devices},
          {"readiness", probe_to_json(c.readiness)},
          {"liveness", probe_to_json(c.liveness)},
          {"graceSeconds", c.grace.count()}};
}

EngineConfig config_from_json(const json& j) {
  EngineConfig c;
  const auto& id = j.at("identity");
  c.identity = {id.at("name").get<std::string>(), id.at("deployment").get<std::string>(),
                id.at("replica").get<int>(), id.at("version").get<std::string>(),
                track_at(id)};
  const auto& launch = j.at("launch");
  c.launch.argv = launch.at("argv").get<std::vector<std::string>>();
  c.launch.env = launch.at("env").get<std::map<std::string, std::string>>();
  c.launch.log_path = launch.at("logPath").get<std::string>();
  c.launch.cpus = launch.at("cpus").get<std::vector<int>>();
  c.launch.limits = limits_from_json(launch.value("limits", json::object()));  // absent before limits
  c.host = j.at("host").get<std::string>();
  c.port = j.at("port").get<uint16_t>();
  c.devices = j.at("devices").get<std::vector<std::string>>();
  c.readiness = probe_from_json(j.at("readiness"));
  c.liveness = probe_from_json(j.at("liveness"));
  c.grace = std::chrono::seconds(j.at("graceSeconds").get<int64_t>());
  return c;
}

}  // namespace duet::engine
