// The pieces of canary analysis that need no process: reading traffic reports, summing them,
// the p99 of a histogram, and the verdict of an interval.
#include <gtest/gtest.h>

#include "daemon/rollout/analysis.h"
#include "daemon/rollout/traffic.h"
#include "duet/common/http_error.h"

namespace duet::daemon {
namespace {

using nlohmann::json;

const json kBounds = {0.1, 1, 2.5};

json item(const std::string& track, int requests, int errors, json counts,
          const std::string& version = "r2") {
  return {{"deployment", "chat"},
          {"track", track},
          {"version", version},
          {"requests", requests},
          {"errors", {{"status5xx", errors}, {"noResponse", 0}}},
          {"firstByteSeconds", {{"bounds", kBounds}, {"counts", counts}}}};
}

std::string error_param(const json& body) {
  try {
    parse_traffic_report(body);
  } catch (const HttpError& e) {
    return e.param();
  }
  return "(accepted)";
}

TEST(TrafficReport, BadFieldsAreNamed) {
  EXPECT_EQ(error_param(json::object()), "items");
  EXPECT_EQ(error_param({{"items", {{{"track", "canary"}}}}}), "items[0].deployment");
  auto blue = item("blue", 1, 0, {1, 0, 0, 0});
  EXPECT_EQ(error_param({{"items", {blue}}}), "items[0].track");
  auto negative = item("canary", -1, 0, {1, 0, 0, 0});
  EXPECT_EQ(error_param({{"items", {negative}}}), "items[0].requests");
  auto short_counts = item("canary", 1, 0, {1, 0});
  EXPECT_EQ(error_param({{"items", {short_counts}}}), "items[0].firstByteSeconds");
  auto falling = item("canary", 1, 0, {1, 0, 0, 0});
  falling["firstByteSeconds"]["bounds"] = {1, 0.5, 2};
  EXPECT_EQ(error_param({{"items", {falling}}}), "items[0].firstByteSeconds.bounds");
  EXPECT_EQ(error_param({{"items", {item("canary", 3, 1, {1, 1, 1, 0})}}}), "(accepted)");
}

TEST(TrafficLedger, SumsTheCanaryOfOneVersionOverRoutersAndStartsAWindowOnTake) {
  TrafficLedger ledger;
  auto report = [&](const json& i) { ledger.add(parse_traffic_report({{"items", {i}}}).items[0]); };
  report(item("canary", 10, 1, {8, 2, 0, 0}));         // router A
  report(item("canary", 20, 2, {10, 10, 0, 0}));       // router B
  report(item("canary", 5, 5, {0, 0, 0, 5}, ""));      // no replica reached: counts too
  report(item("canary", 7, 7, {0, 0, 0, 7}, "r1"));    // an older canary: not this one
  report(item("stable", 100, 100, {100, 0, 0, 0}));    // stable is not judged
  auto counts = ledger.take("chat", "r2");
  EXPECT_EQ(counts.requests, 35u);
  EXPECT_EQ(error_total(counts), 8u);
  EXPECT_EQ(counts.buckets, (std::vector<uint64_t>{18, 12, 0, 5}));
  EXPECT_EQ(ledger.take("chat", "r2").requests, 0u);
}

// Requests chosen for an ejected canary and answered by stable (docs/decisions.md).
TEST(TrafficLedger, RequestsTheCanaryCouldNotTakeCountAgainstIt) {
  TrafficLedger ledger;
  auto unavailable = item("canary", 40, 0, {0, 0, 0, 0}, "");
  unavailable["errors"] = {{"status5xx", 0}, {"noResponse", 0}, {"unavailable", 40}};
  ledger.add(parse_traffic_report({{"items", {unavailable}}}).items[0]);
  ledger.add(parse_traffic_report({{"items", {item("canary", 3, 3, {3, 0, 0, 0})}}}).items[0]);
  auto counts = ledger.take("chat", "r2");
  EXPECT_EQ(counts.requests, 43u);
  EXPECT_EQ(error_total(counts), 43u);
  manifest::CanaryAnalysis rules;
  rules.min_requests = 20;
  EXPECT_EQ(analyse(counts, rules).verdict, api::Verdict::failed);
}

TEST(TrafficCounts, QuantileInterpolatesInsideTheBucket) {
  TrafficCounts c;
  c.bounds = {0.1, 1, 2.5};
  c.buckets = {0, 100, 0, 0};  // all between 100 ms and 1 s
  EXPECT_NEAR(*quantile_ms(c, 0.99), 100 + 900 * 0.99, 1e-6);
  c.buckets = {99, 0, 1, 0};  // the 99th of 100 is the last fast one
  EXPECT_NEAR(*quantile_ms(c, 0.99), 100, 1e-6);
  c.buckets = {0, 0, 0, 4};  // above every bound: the highest bound, as Prometheus does
  EXPECT_EQ(*quantile_ms(c, 0.99), 2500);
  c.buckets = {0, 0, 0, 0};
  EXPECT_FALSE(quantile_ms(c, 0.99));
}

TEST(Analysis, SkipsThinIntervalsAndNamesTheFailedMetric) {
  manifest::CanaryAnalysis rules;
  rules.min_requests = 20;
  rules.min_success_rate = 0.99;
  rules.max_p99_latency_ms = 1200;
  TrafficCounts c;
  c.bounds = {0.1, 1, 2.5};
  c.requests = 19;
  c.buckets = {19, 0, 0, 0};
  auto thin = analyse(c, rules);
  EXPECT_EQ(thin.verdict, api::Verdict::skipped);
  EXPECT_EQ(thin.reason, "19 requests < minRequests 20");

  c.requests = 100;
  c.buckets = {100, 0, 0, 0};
  EXPECT_EQ(analyse(c, rules).verdict, api::Verdict::passed);

  c.errors["status5xx"] = 30;
  auto failing = analyse(c, rules);
  EXPECT_EQ(failing.verdict, api::Verdict::failed);
  EXPECT_EQ(failing.reason, "successRate 0.700 < minSuccessRate 0.990");

  c.errors.clear();
  c.buckets = {0, 0, 100, 0};
  auto slow = analyse(c, rules);
  EXPECT_EQ(slow.verdict, api::Verdict::failed);
  EXPECT_EQ(slow.reason, "p99 first-byte latency 2485 ms > maxP99LatencyMs 1200");
  EXPECT_EQ(api::parse_analysis_report(api::to_json(slow)).reason, slow.reason);
  rules.max_p99_latency_ms = 0;  // not checked
  EXPECT_EQ(analyse(c, rules).verdict, api::Verdict::passed);
}

}  // namespace
}  // namespace duet::daemon
