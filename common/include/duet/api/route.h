#pragma once
// A Route (SPEC §2): which requests go to which deployments and how. duetd reads it from a
// manifest (strictly) and writes it into its store, its checkpoint and the watch stream; the
// router reads it from the stream with the same reader, defaults and limits.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "duet/api/enums.h"
#include "duet/api/field_reader.h"
#include "duet/api/metadata.h"

namespace duet::api {

struct SizeRouting {
  uint64_t threshold_tokens = 2048;  // below: `small`, else `large`
  std::string small;
  std::string large;
};

// How the router picks an endpoint within a pool (docs/scheduling.md). `duet` and `prefix`
// score each endpoint: prefix affinity (how much of the prompt's leading text it served
// recently) against load (requests in flight; for duet also the engine's own queue and KV
// use); an endpoint that busy gets no affinity, so a hot prefix cannot pile onto one engine.
struct Scheduling {
  SchedulingPolicy policy = SchedulingPolicy::duet;
  double prefix_weight = 2.0;  // weights.prefix
  double queue_weight = 1.0;   // weights.queue
  double kv_weight = 1.0;      // weights.kvUtilization (duet only: from the engine's /metrics)
  double ttft_weight = 1.0;    // weights.ttft (duet only: the predicted time to first token)
  double cache_weight = 2.0;   // weights.cachePressure (duet only: where a new prefix goes)
  unsigned max_affinity_in_flight = 16;
  std::string session_header;  // sessionAffinity: hash this header; empty: the stickiness key
  // duet with size routing: a request for the small pool goes to the large one when the
  // small pool's best predicted TTFT is worse than the large pool's by more than spill_margin.
  bool spill = true;                               // spill.enabled
  std::chrono::milliseconds spill_margin{100};     // spill.marginMs
};

// Mid-stream migration (docs/decisions.md): a streamed completion whose engine fails in the
// middle of its answer goes on on another engine of the same pool, continued exactly from
// the token ids the client has (the engines must return them: vLLM's return_token_ids).
// Off unless asked for: the first engine's request gains return_token_ids and usage.
struct Migration {
  bool enabled = false;          // migration.enabled
  unsigned max_migrations = 2;   // migration.maxMigrations: engines after the first
  uint64_t max_tokens = 32768;   // migration.maxMigratableTokens: prompt + output ids kept
  // migration.readyWaitMs: how long a stream waits for a Ready engine to go on on when none
  // is left (duetd restarting the failed one), 0..60000
  std::chrono::milliseconds ready_wait{5000};
  // migration.textFallback: an engine that returns no token ids is continued from the
  // answer's text (docs/migration.md): on only for models whose template round-trips it
  bool text_fallback = false;
};

struct Route {
  Metadata metadata;
  std::string path_prefix = "/v1/";
  std::string model;                       // spec.match.model; empty: any model
  std::string backend;                     // set when size_routing is not
  std::optional<SizeRouting> size_routing;
  std::string canary_header_name = "x-canary";  // its value forces canary, "false" stable
  std::string canary_header_value = "true";
  std::string stickiness_claim = "sub";  // JWT claim hashed for the version split
  // Endpoints tried in all before the first response byte: 1 is no retry.
  unsigned retry_attempts = 2;
  std::chrono::seconds first_byte_timeout{60};
  std::chrono::seconds idle_timeout{120};
  Scheduling scheduling;
  Migration migration;

  const std::string& name() const { return metadata.name; }
  // Deployments this route sends to.
  std::vector<std::string> deployments() const;
};

inline constexpr unsigned kMaxRetryAttempts = 10;

// Reads apiVersion, metadata and spec of a Route document (the caller reads `kind`).
Route read_route(FieldReader& doc);
// A whole Route object as the watch stream and the node API carry it (kind, metadata with
// resourceVersion, ...). Throws FieldError naming the field.
Route parse_route(const nlohmann::json& object, Unknown unknown = Unknown::ignore);
nlohmann::json to_json(const Route& route);

}  // namespace duet::api
