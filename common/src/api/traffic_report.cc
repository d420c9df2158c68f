#include "duet/api/traffic_report.h"

#include "duet/api/field_reader.h"

namespace duet::api {

using nlohmann::json;

namespace {

uint64_t count_at(FieldReader& r, const std::string& key) {
  return static_cast<uint64_t>(r.integer(key, 0, 0, INT64_MAX));
}

void read_histogram(FieldReader& h, std::vector<double>& bounds_out, std::vector<uint64_t>& buckets) {
  const auto* bounds = h.array("bounds", true);
  const auto* counts = h.array("counts", true);
  if (counts->size() != bounds->size() + 1)
    throw FieldError(h.path(), "expected bounds and one more count than bounds");
  for (const auto& b : *bounds) {
    if (!b.is_number() || (!bounds_out.empty() && b.get<double>() <= bounds_out.back()))
      throw FieldError(h.child_path("bounds"), "expected rising numbers");
    bounds_out.push_back(b.get<double>());
  }
  for (const auto& n : *counts) {
    if (!n.is_number_unsigned() && !(n.is_number_integer() && n.get<int64_t>() >= 0))
      throw FieldError(h.child_path("counts"), "expected counts");
    buckets.push_back(n.get<uint64_t>());
  }
  h.reject_unknown();
}

// durationSeconds shares firstByteSeconds' bounds (the router counts both on one scale).
void read_duration(FieldReader& h, TrafficCounts& c) {
  std::vector<double> bounds;
  read_histogram(h, bounds, c.duration_buckets);
  if (c.bounds.empty()) c.bounds = std::move(bounds);
  if (c.bounds != bounds && !bounds.empty())
    throw FieldError(h.child_path("bounds"), "expected the bounds of firstByteSeconds");
}

TrafficItem read_item(FieldReader& r) {
  TrafficItem item;
  item.deployment = r.string("deployment");
  item.track = r.choice("track", std::nullopt, parse_track, "stable or canary");
  item.version = r.text("version");
  item.counts.requests = count_at(r, "requests");
  if (r.object("errors")) {
    FieldReader errors = r.child("errors");
    for (const auto& [kind, value] : r.object("errors")->items())
      item.counts.errors[kind] = count_at(errors, kind);
  }
  if (r.object("firstByteSeconds")) {
    FieldReader h = r.child("firstByteSeconds");
    read_histogram(h, item.counts.bounds, item.counts.buckets);
  }
  if (r.object("durationSeconds")) {
    FieldReader h = r.child("durationSeconds");
    read_duration(h, item.counts);
  }
  return item;
}

}  // namespace

json to_json(const TrafficReport& report) {
  json items = json::array();
  for (const auto& item : report.items) {
    json j = {{"deployment", item.deployment},
              {"track", to_string(item.track)},
              {"version", item.version},
              {"requests", item.counts.requests},
              {"errors", item.counts.errors}};
    if (!item.counts.buckets.empty())
      j["firstByteSeconds"] = {{"bounds", item.counts.bounds}, {"counts", item.counts.buckets}};
    if (!item.counts.duration_buckets.empty())
      j["durationSeconds"] = {{"bounds", item.counts.bounds}, {"counts", item.counts.duration_buckets}};
    items.push_back(std::move(j));
  }
  return {{"router", report.router},
          {"items", std::move(items)},
          {"seenResourceVersion", report.seen_version},
          {"inFlight", report.in_flight}};
}

TrafficReport parse_traffic_report(const json& body) {
  // Fields a newer router adds are left out: an older duetd still judges on the rest.
  FieldReader r(body, "", Unknown::ignore);
  TrafficReport report;
  report.router = r.text("router");
  const auto* items = r.array("items", true);
  for (std::size_t i = 0; i < items->size(); ++i) {
    FieldReader item((*items)[i], "items[" + std::to_string(i) + "]", Unknown::ignore);
    report.items.push_back(read_item(item));
  }
  report.seen_version = count_at(r, "seenResourceVersion");
  if (r.object("inFlight")) {
    FieldReader in_flight = r.child("inFlight");
    for (const auto& [engine, value] : r.object("inFlight")->items())
      report.in_flight[engine] = count_at(in_flight, engine);
  }
  return report;
}

}  // namespace duet::api
