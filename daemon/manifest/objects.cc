#include "daemon/manifest/objects.h"

namespace duet::manifest {

using nlohmann::json;

namespace {

json probe_json(const HttpProbe& p) {
  return {{"httpGet", {{"path", p.path}}},
          {"periodSeconds", p.period_seconds},
          {"timeoutSeconds", p.timeout_seconds},
          {"failureThreshold", p.failure_threshold},
          {"initialDelaySeconds", p.initial_delay_seconds}};
}

json strategy_json(const Strategy& s) {
  json j = {{"type", api::to_string(s.type)}};
  if (s.type != api::StrategyType::canary) return j;
  json steps = json::array();
  for (const auto& step : s.steps) {
    if (step.set_weight) steps.push_back({{"setWeight", *step.set_weight}});
    if (step.pause_seconds) {
      json pause = json::object();
      if (*step.pause_seconds >= 0) pause["duration"] = std::to_string(*step.pause_seconds) + "s";
      steps.push_back({{"pause", pause}});
    }
  }
  j["canary"] = {{"replicas", s.canary_replicas}, {"capacity", api::to_string(s.capacity)}, {"steps", steps}};
  if (s.analysis) {
    const auto& a = *s.analysis;
    j["canary"]["analysis"] = {{"interval", std::to_string(a.interval_seconds) + "s"},
                               {"failureLimit", a.failure_limit},
                               {"minSuccessRate", a.min_success_rate},
                               {"maxP99LatencyMs", a.max_p99_latency_ms},
                               {"minRequests", a.min_requests}};
  }
  return j;
}

}  // namespace

json to_json(const RuntimeClass& rc) {
  return {{"apiVersion", "node.k8s.io/v1"},
          {"kind", "RuntimeClass"},
          {"metadata", to_json(rc.metadata)},
          {"handler", rc.handler}};
}

namespace {

// `limits` only when set, so that a deployment without them keeps the revision it had
// before limits existed (a new revision would replace every replica on upgrade).
json resources_json(const EngineDeployment& d) {
  json resources = {{"devices", d.devices}};
  json limits = json::object();
  if (d.limits.memory_bytes) limits["memory"] = *d.limits.memory_bytes;
  if (d.limits.pids) limits["pids"] = *d.limits.pids;
  if (!limits.empty()) resources["limits"] = limits;
  return resources;
}

}  // namespace

json to_json(const EngineDeployment& d) {
  json tmpl = {{"command", d.engine.command},
               {"terminationGracePeriodSeconds", d.engine.termination_grace_seconds}};
  if (!d.engine.env.empty()) tmpl["env"] = d.engine.env;
  if (d.engine.readiness) tmpl["readinessProbe"] = probe_json(*d.engine.readiness);
  if (d.engine.liveness) tmpl["livenessProbe"] = probe_json(*d.engine.liveness);
  return {{"apiVersion", api::kDuetApiVersion},
          {"kind", "EngineDeployment"},
          {"metadata", to_json(d.metadata)},
          {"spec",
           {{"runtimeClassName", d.runtime_class},
            {"replicas", d.replicas},
            {"version", d.version},
            {"resources", resources_json(d)},
            {"template", tmpl},
            {"strategy", strategy_json(d.strategy)}}}};
}

}  // namespace duet::manifest
