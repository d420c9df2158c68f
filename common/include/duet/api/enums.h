#pragma once
// The closed sets of names in duet's contract, as enums: each written and read in one place,
// so a misspelt "canary" is a compile error, not a replica that never gets traffic.

#include <cstdint>
#include <optional>
#include <string_view>

namespace duet::api {

// Which side of a rollout a replica, a request or a traffic count belongs to.
enum class Track : uint8_t { stable, canary };
// EngineDeployment spec.strategy.type.
enum class StrategyType : uint8_t { canary, recreate };
// spec.strategy.canary.capacity: canary replicas on top of the stable ones, or in their place.
enum class Capacity : uint8_t { surge, replace };
// A replica's state (kubectl's pod phases, made for engines). Draining: leaving for a
// planned reason, not Ready, its process left running until no router has a request on it.
enum class EngineState : uint8_t { pending, starting, ready, unready, terminating, draining };
// Where a rollout stands (Argo Rollouts' phases): degraded is aborted by the analysis,
// aborted by `duetctl rollout abort`.
enum class RolloutPhase : uint8_t { progressing, paused, healthy, degraded, aborted };
inline constexpr RolloutPhase kRolloutPhases[] = {RolloutPhase::progressing, RolloutPhase::paused,
                                                  RolloutPhase::healthy, RolloutPhase::degraded,
                                                  RolloutPhase::aborted};
// The outcome of one analysis interval of a canary.
enum class Verdict : uint8_t { passed, failed, skipped };
// The events of the watch stream (docs/node-api.md).
enum class WatchEventType : uint8_t { snapshot, added, modified, deleted, bookmark };
// Route spec.scheduling.policy: how the router picks an endpoint in a pool.
enum class SchedulingPolicy : uint8_t { duet, least_request, round_robin, prefix, session_affinity };
// The policies that score endpoints on the router's prefix index (duet and prefix).
constexpr bool uses_prefix_index(SchedulingPolicy policy) {
  return policy == SchedulingPolicy::duet || policy == SchedulingPolicy::prefix;
}

std::string_view to_string(Track track);             // stable | canary
std::string_view to_string(StrategyType type);       // Canary | Recreate
std::string_view to_string(Capacity capacity);       // surge | replace
std::string_view to_string(EngineState state);       // Pending | Starting | Ready | ... | Draining
std::string_view to_string(RolloutPhase phase);      // Progressing | Paused | Healthy | ...
std::string_view to_string(Verdict verdict);         // Passed | Failed | Skipped
std::string_view to_string(WatchEventType type);     // SNAPSHOT | ADDED | ... | BOOKMARK
std::string_view to_string(SchedulingPolicy policy); // duet | leastRequest | roundRobin | ...

// The value a name stands for; nullopt for any other text.
std::optional<Track> parse_track(std::string_view text);
std::optional<StrategyType> parse_strategy_type(std::string_view text);
std::optional<Capacity> parse_capacity(std::string_view text);
std::optional<EngineState> parse_engine_state(std::string_view text);
std::optional<RolloutPhase> parse_rollout_phase(std::string_view text);
std::optional<Verdict> parse_verdict(std::string_view text);
std::optional<WatchEventType> parse_watch_event_type(std::string_view text);
std::optional<SchedulingPolicy> parse_scheduling_policy(std::string_view text);

}  // namespace duet::api
