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

}  // namespace

AnalysisResult analyse(const TrafficCounts& canary, const manifest::CanaryAnalysis& rules) {
  AnalysisResult r;
  r.requests = canary.requests;
  r.errors = error_total(canary);
  r.success_rate = success_rate(canary);
  r.p99_ms = quantile_ms(canary, 0.99);
  if (static_cast<int64_t>(r.requests) < rules.min_requests) {
    r.reason = std::to_string(r.requests) + " requests < minRequests " + std::to_string(rules.min_requests);
    return r;
  }
  r.verdict = api::Verdict::failed;
  if (r.success_rate < rules.min_success_rate) {
    r.reason = "successRate " + fixed(r.success_rate, 3) + " < minSuccessRate " +
               fixed(rules.min_success_rate, 3);
  } else if (rules.max_p99_latency_ms > 0 && r.p99_ms &&
             *r.p99_ms > static_cast<double>(rules.max_p99_latency_ms)) {
    r.reason = "p99 first-byte latency " + fixed(*r.p99_ms, 0) + " ms > maxP99LatencyMs " +
               std::to_string(rules.max_p99_latency_ms);
  } else {
    r.verdict = api::Verdict::passed;
  }
  return r;
}

}  // namespace duet::daemon
