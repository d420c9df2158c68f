#include "daemon/rollout/analysis.h"

#include <cstdio>

namespace duet::daemon {

using nlohmann::json;

namespace {

std::string fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

const char* verdict_name(AnalysisResult::Verdict v) {
  switch (v) {
    case AnalysisResult::Verdict::passed: return "Passed";
    case AnalysisResult::Verdict::failed: return "Failed";
    case AnalysisResult::Verdict::skipped: break;
  }
  return "Skipped";
}

}  // namespace

AnalysisResult analyse(const TrafficCounts& canary, const manifest::CanaryAnalysis& rules) {
  AnalysisResult r;
  r.requests = canary.requests;
  r.errors = canary.error_total();
  r.success_rate = canary.success_rate();
  r.p99_ms = canary.quantile_ms(0.99);
  if (static_cast<int64_t>(r.requests) < rules.min_requests) {
    r.reason = std::to_string(r.requests) + " requests < minRequests " + std::to_string(rules.min_requests);
    return r;
  }
  r.verdict = AnalysisResult::Verdict::failed;
  if (r.success_rate < rules.min_success_rate) {
    r.reason = "successRate " + fixed(r.success_rate, 3) + " < minSuccessRate " +
               fixed(rules.min_success_rate, 3);
  } else if (rules.max_p99_latency_ms > 0 && r.p99_ms &&
             *r.p99_ms > static_cast<double>(rules.max_p99_latency_ms)) {
    r.reason = "p99 first-byte latency " + fixed(*r.p99_ms, 0) + " ms > maxP99LatencyMs " +
               std::to_string(rules.max_p99_latency_ms);
  } else {
    r.verdict = AnalysisResult::Verdict::passed;
  }
  return r;
}

json AnalysisResult::to_json() const {
  json j = {{"result", verdict_name(verdict)},
            {"requests", requests},
            {"errors", errors},
            {"successRate", success_rate},
            {"p99LatencyMs", p99_ms ? json(*p99_ms) : json()}};
  if (!reason.empty()) j["reason"] = reason;
  return j;
}

AnalysisResult AnalysisResult::from_json(const json& j) {
  AnalysisResult r;
  auto result = j.value("result", "Skipped");
  r.verdict = result == "Passed"   ? Verdict::passed
              : result == "Failed" ? Verdict::failed
                                   : Verdict::skipped;
  r.requests = j.value("requests", uint64_t{0});
  r.errors = j.value("errors", uint64_t{0});
  r.success_rate = j.value("successRate", 1.0);
  if (j.contains("p99LatencyMs") && j["p99LatencyMs"].is_number()) r.p99_ms = j["p99LatencyMs"].get<double>();
  r.reason = j.value("reason", "");
  return r;
}

}  // namespace duet::daemon
