#include "duet/api/deployment_status.h"

namespace duet::api {

using nlohmann::json;

namespace {

int count_at(FieldReader& r, const char* key) { return static_cast<int>(r.integer(key, 0, 0, INT32_MAX)); }

AnalysisReport read_report(FieldReader& r) {
  AnalysisReport a;
  a.verdict = r.choice("result", Verdict::skipped, parse_verdict, "Passed, Failed or Skipped");
  a.requests = static_cast<uint64_t>(r.integer("requests", 0, 0, INT64_MAX));
  a.errors = static_cast<uint64_t>(r.integer("errors", 0, 0, INT64_MAX));
  a.success_rate = r.number("successRate", 1, 0, 1);
  a.p99_ms = r.optional_number("p99LatencyMs", 0, 1e12);
  a.reason = r.text("reason");
  r.reject_unknown();
  return a;
}

RolloutAnalysisStatus read_analysis(FieldReader& r) {
  RolloutAnalysisStatus a;
  a.failures = count_at(r, "failures");
  a.failure_limit = count_at(r, "failureLimit");
  if (r.object("last")) {
    FieldReader last = r.child("last");
    a.last = read_report(last);
  }
  r.reject_unknown();
  return a;
}

RolloutPause read_pause(FieldReader& r) {
  RolloutPause p;
  p.started_at = r.text("startedAt");
  p.started_at_ms = r.integer("startedAtMs", 0, 0, INT64_MAX);
  p.duration_seconds = r.optional_integer("durationSeconds", 0, INT64_MAX);
  r.reject_unknown();
  return p;
}

RolloutStatus read_rollout(FieldReader& r) {
  RolloutStatus s;
  s.phase = r.choice("phase", RolloutPhase::progressing, parse_rollout_phase,
                     "Progressing, Paused, Healthy, Degraded or Aborted");
  s.message = r.text("message");
  s.weight = static_cast<int>(r.integer("weight", 0, 0, 100));
  s.stable_version = r.text("stableVersion");
  s.stable_replicas = count_at(r, "stableReplicas");
  s.stable_ready = count_at(r, "stableReady");
  s.canary_replicas = count_at(r, "canaryReplicas");
  s.canary_ready = count_at(r, "canaryReady");
  s.canary_version = r.text("canaryVersion");
  s.current_step = static_cast<std::size_t>(r.integer("currentStepIndex", 0, 0, INT32_MAX));
  s.steps = static_cast<std::size_t>(r.integer("steps", 0, 0, INT32_MAX));
  s.promoting = r.boolean("promoting", false);
  if (r.object("pause")) {
    FieldReader p = r.child("pause");
    s.pause = read_pause(p);
  }
  if (r.object("analysis")) {
    FieldReader a = r.child("analysis");
    s.analysis = read_analysis(a);
  }
  r.reject_unknown();
  return s;
}

}  // namespace

json to_json(const AnalysisReport& a) {
  json j = {{"result", to_string(a.verdict)},
            {"requests", a.requests},
            {"errors", a.errors},
            {"successRate", a.success_rate},
            {"p99LatencyMs", a.p99_ms ? json(*a.p99_ms) : json()}};
  if (!a.reason.empty()) j["reason"] = a.reason;
  return j;
}

json to_json(const RolloutStatus& s) {
  json j = {{"phase", to_string(s.phase)},
            {"message", s.message},
            {"weight", s.weight},
            {"stableVersion", s.stable_version},
            {"stableReplicas", s.stable_replicas},
            {"stableReady", s.stable_ready},
            {"canaryReplicas", s.canary_replicas},
            {"canaryReady", s.canary_ready}};
  if (s.canary_version.empty()) return j;
  j["canaryVersion"] = s.canary_version;
  j["currentStepIndex"] = s.current_step;
  j["steps"] = s.steps;
  j["promoting"] = s.promoting;
  if (s.pause)
    j["pause"] = {{"startedAt", s.pause->started_at},
                  {"startedAtMs", s.pause->started_at_ms},
                  {"durationSeconds", s.pause->duration_seconds ? json(*s.pause->duration_seconds) : json()}};
  if (s.analysis) {
    j["analysis"] = {{"failures", s.analysis->failures}, {"failureLimit", s.analysis->failure_limit}};
    if (s.analysis->last) j["analysis"]["last"] = to_json(*s.analysis->last);
  }
  return j;
}

json to_json(const DeploymentStatus& s) {
  json j = {{"replicas", s.replicas},
            {"readyReplicas", s.ready_replicas},
            {"canaryWeight", s.canary_weight},
            {"observedGeneration", s.observed_generation}};
  if (s.rollout) j["rollout"] = to_json(*s.rollout);
  return j;
}

AnalysisReport parse_analysis_report(const json& object, Unknown unknown) {
  FieldReader r(object, "", unknown);
  return read_report(r);
}

DeploymentStatus parse_deployment_status(const json& object, Unknown unknown) {
  FieldReader r(object, "status", unknown);
  DeploymentStatus s;
  s.replicas = count_at(r, "replicas");
  s.ready_replicas = count_at(r, "readyReplicas");
  s.canary_weight = static_cast<int>(r.integer("canaryWeight", 0, 0, 100));
  s.observed_generation = r.integer("observedGeneration", 0, 0, INT64_MAX);
  if (r.object("rollout")) {
    FieldReader rollout = r.child("rollout");
    s.rollout = read_rollout(rollout);
  }
  r.reject_unknown();
  return s;
}

DeploymentView parse_deployment_view(const json& object) {
  FieldReader doc(object, "", Unknown::ignore);
  DeploymentView view;
  view.name = doc.child("metadata").string("name");
  if (doc.object("status")) view.status = parse_deployment_status(object.at("status"));
  return view;
}

}  // namespace duet::api
