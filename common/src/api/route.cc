#include "duet/api/route.h"

namespace duet::api {

using nlohmann::json;

namespace {

std::chrono::seconds seconds_at(FieldReader& r, const char* key, int64_t fallback) {
  return std::chrono::seconds(r.integer(key, fallback, 1, 86400));
}

void read_match(FieldReader& spec, Route& route) {
  if (!spec.object("match")) return;
  FieldReader match = spec.child("match");
  route.path_prefix = match.optional_string("pathPrefix").value_or("/v1/");
  if (route.path_prefix.front() != '/') throw FieldError("spec.match.pathPrefix", "must start with '/'");
  route.model = match.optional_string("model").value_or("");
  match.reject_unknown();
}

// Exactly one of backend and sizeRouting.
void read_destination(FieldReader& spec, Route& route) {
  route.backend = spec.optional_string("backend").value_or("");
  // `sizeRouting:` with no value is null, which object() reads as absent: so must this check.
  if (spec.object("sizeRouting")) {
    FieldReader s = spec.child("sizeRouting");
    SizeRouting size;
    size.threshold_tokens = static_cast<uint64_t>(s.integer("thresholdTokens", 2048, 1, 100'000'000));
    size.small = s.string("small");
    size.large = s.string("large");
    s.reject_unknown();
    route.size_routing = std::move(size);
  }
  if (route.backend.empty() == !route.size_routing)
    throw FieldError("spec", "a Route has exactly one of sizeRouting and backend");
}

void read_behaviour(FieldReader& spec, Route& route) {
  if (spec.object("canaryHeader")) {
    FieldReader c = spec.child("canaryHeader");
    route.canary_header_name = c.optional_string("name").value_or("x-canary");
    route.canary_header_value = c.optional_string("value").value_or("true");
    c.reject_unknown();
  }
  if (spec.object("stickiness")) {
    FieldReader s = spec.child("stickiness");
    route.stickiness_claim = s.optional_string("claim").value_or("sub");
    s.reject_unknown();
  }
  if (spec.object("retries")) {
    FieldReader s = spec.child("retries");
    route.retry_attempts = static_cast<unsigned>(s.integer("attempts", 2, 1, kMaxRetryAttempts));
    s.reject_unknown();
  }
  if (spec.object("timeouts")) {
    FieldReader s = spec.child("timeouts");
    route.first_byte_timeout = seconds_at(s, "firstByteSeconds", 60);
    route.idle_timeout = seconds_at(s, "idleSeconds", 120);
    s.reject_unknown();
  }
}

void read_scheduling(FieldReader& spec, Route& route) {
  if (!spec.object("scheduling")) return;
  FieldReader s = spec.child("scheduling");
  auto& out = route.scheduling;
  out.policy = s.choice<SchedulingPolicy>("policy", SchedulingPolicy::duet, parse_scheduling_policy,
                                          "duet, leastRequest, roundRobin, prefix or sessionAffinity");
  if (s.object("weights")) {
    FieldReader w = s.child("weights");
    out.prefix_weight = w.number("prefix", out.prefix_weight, 0, 1000);
    out.queue_weight = w.number("queue", out.queue_weight, 0, 1000);
    out.kv_weight = w.number("kvUtilization", out.kv_weight, 0, 1000);
    out.ttft_weight = w.number("ttft", out.ttft_weight, 0, 1000);
    out.cache_weight = w.number("cachePressure", out.cache_weight, 0, 1000);
    w.reject_unknown();
  }
  if (s.object("spill")) {
    FieldReader spill = s.child("spill");
    out.spill = spill.boolean("enabled", out.spill);
    out.spill_margin = std::chrono::milliseconds(spill.integer("marginMs", out.spill_margin.count(), 0, 600'000));
    spill.reject_unknown();
  }
  out.max_affinity_in_flight =
      static_cast<unsigned>(s.integer("maxAffinityInFlight", out.max_affinity_in_flight, 1, 100000));
  out.session_header = s.optional_string("sessionHeader").value_or("");
  s.reject_unknown();
}

void read_migration(FieldReader& spec, Route& route) {
  if (!spec.object("migration")) return;
  FieldReader m = spec.child("migration");
  auto& out = route.migration;
  out.enabled = m.boolean("enabled", out.enabled);
  out.max_migrations = static_cast<unsigned>(m.integer("maxMigrations", out.max_migrations, 1, 10));
  out.max_tokens = static_cast<uint64_t>(m.integer("maxMigratableTokens", static_cast<int64_t>(out.max_tokens), 1, 1'000'000));
  out.ready_wait = std::chrono::milliseconds(m.integer("readyWaitMs", out.ready_wait.count(), 0, 60'000));
  out.text_fallback = m.boolean("textFallback", out.text_fallback);
  m.reject_unknown();
}

}  // namespace

std::vector<std::string> Route::deployments() const {
  if (!size_routing) return {backend};
  return {size_routing->small, size_routing->large};
}

Route read_route(FieldReader& doc) {
  expect_api_version(doc, kDuetApiVersion);
  Route route;
  route.metadata = read_metadata(doc);
  FieldReader spec = doc.child("spec");
  read_match(spec, route);
  read_destination(spec, route);
  read_behaviour(spec, route);
  read_scheduling(spec, route);
  read_migration(spec, route);
  spec.reject_unknown();
  return route;
}

Route parse_route(const json& object, Unknown unknown) {
  FieldReader doc(object, "", unknown);
  doc.skip("kind");
  doc.skip("status");
  Route route = read_route(doc);
  doc.reject_unknown();
  return route;
}

json to_json(const Route& r) {
  json match = {{"pathPrefix", r.path_prefix}};
  if (!r.model.empty()) match["model"] = r.model;
  json spec = {{"match", match},
               {"canaryHeader", {{"name", r.canary_header_name}, {"value", r.canary_header_value}}},
               {"stickiness", {{"claim", r.stickiness_claim}}},
               {"retries", {{"attempts", r.retry_attempts}}},
               {"timeouts",
                {{"firstByteSeconds", r.first_byte_timeout.count()},
                 {"idleSeconds", r.idle_timeout.count()}}}};
  const auto& s = r.scheduling;
  spec["scheduling"] = {{"policy", to_string(s.policy)},
                        {"weights",
                         {{"prefix", s.prefix_weight},
                          {"queue", s.queue_weight},
                          {"kvUtilization", s.kv_weight},
                          {"ttft", s.ttft_weight},
                          {"cachePressure", s.cache_weight}}},
                        {"maxAffinityInFlight", s.max_affinity_in_flight},
                        {"spill", {{"enabled", s.spill}, {"marginMs", s.spill_margin.count()}}}};
  if (!s.session_header.empty()) spec["scheduling"]["sessionHeader"] = s.session_header;
  spec["migration"] = {{"enabled", r.migration.enabled},
                       {"maxMigrations", r.migration.max_migrations},
                       {"maxMigratableTokens", r.migration.max_tokens},
                       {"readyWaitMs", r.migration.ready_wait.count()},
                       {"textFallback", r.migration.text_fallback}};
  if (r.size_routing)
    spec["sizeRouting"] = {{"thresholdTokens", r.size_routing->threshold_tokens},
                           {"small", r.size_routing->small},
                           {"large", r.size_routing->large}};
  else
    spec["backend"] = r.backend;
  return {{"apiVersion", kDuetApiVersion},
          {"kind", "Route"},
          {"metadata", to_json(r.metadata)},
          {"spec", spec}};
}

}  // namespace duet::api
