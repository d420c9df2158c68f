#pragma once
// A router's traffic report (`POST /apis/v1/traffic`, docs/node-api.md "Traffic reports"):
// once a second, what each deployment's stable and canary replicas answered since the
// previous report, and what is in flight on each engine. The router writes it; duetd's
// canary analysis reads the counts, its drains (daemon/drain_tracker.h) the rest.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "duet/api/enums.h"

namespace duet::api {

struct TrafficCounts {
  uint64_t requests = 0;
  std::map<std::string, uint64_t> errors;  // by class: status5xx, noResponse, unavailable
  // Time to the first response byte: bucket upper bounds in seconds, and one more count than
  // bounds (the last bucket is +Inf). Empty when the report had no histogram.
  std::vector<double> bounds;
  std::vector<uint64_t> buckets;
  // Time to the last byte (the whole answer), over the same bounds; empty when the report had
  // none (a router older than the dashboard).
  std::vector<uint64_t> duration_buckets;
};

struct TrafficItem {
  std::string deployment;
  Track track = Track::stable;
  std::string version;  // the engines' spec.version; empty when no engine answered
  TrafficCounts counts;
};

struct TrafficReport {
  std::string router;  // which router sent it
  std::vector<TrafficItem> items;
  // The resourceVersion of this duetd's watch stream that the router's routing table was
  // built from (0: none yet, or a router that does not say): from that version on, an engine
  // the stream made not Ready gets no new request from this router.
  uint64_t seen_version = 0;
  // Requests in flight on each of this duetd's engines that has any, by engine name.
  std::map<std::string, uint64_t> in_flight;
};

nlohmann::json to_json(const TrafficReport& report);
// Throws FieldError naming the field (like `items[2].firstByteSeconds.counts`).
TrafficReport parse_traffic_report(const nlohmann::json& body);

}  // namespace duet::api
