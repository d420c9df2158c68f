#pragma once
// The routers' request counts for canary analysis (docs/node-api.md, "Traffic reports"):
// every router posts, once a second, what each deployment's stable and canary replicas
// answered since its previous report; duetd sums the canary's counts over all routers until
// the next analysis interval takes them.

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "duet/api/traffic_report.h"

namespace duet::daemon {

using api::TrafficCounts;
using TrafficSample = api::TrafficItem;

uint64_t error_total(const TrafficCounts& counts);
// 1 when there were no requests.
double success_rate(const TrafficCounts& counts);
// The q-quantile of the first-byte time in milliseconds, interpolated inside its bucket as
// Prometheus' histogram_quantile does; nullopt without samples.
std::optional<double> quantile_ms(const TrafficCounts& counts, double q);
// The same for the time to the last byte (the whole answer).
std::optional<double> duration_quantile_ms(const TrafficCounts& counts, double q);
// Adds `other` to `sum`; a histogram with other bounds than the first one seen is left out.
void add_counts(TrafficCounts& sum, const TrafficCounts& other);

// Reads the body of POST /apis/v1/traffic. Throws HttpError 400 naming the field.
api::TrafficReport parse_traffic_report(const nlohmann::json& body);

// The canary traffic of each deployment since its last analysis. Daemon loop only.
class TrafficLedger {
 public:
  void add(const TrafficSample& sample);
  // What the canary of `deployment` at `version` answered since the previous take (samples
  // without a version count too: the router knew only the track), and starts a new window.
  TrafficCounts take(const std::string& deployment, const std::string& version);
  void forget(const std::string& deployment) { canary_.erase(deployment); }

 private:
  std::map<std::string, std::map<std::string, TrafficCounts>> canary_;  // deployment → version
};

}  // namespace duet::daemon
