#include "duet/api/enums.h"

#include <array>

namespace duet::api {

namespace {

// Each enum's names in the order of its values.
constexpr std::array<std::string_view, 2> kTracksNames = {"stable", "canary"};
constexpr std::array<std::string_view, 2> kStrategyTypesNames = {"Canary", "Recreate"};
constexpr std::array<std::string_view, 2> kCapacitiesNames = {"surge", "replace"};
constexpr std::array<std::string_view, 6> kEngineStatesNames = {"Pending", "Starting", "Ready",
                                                           "Unready", "Terminating", "Draining"};
constexpr std::array<std::string_view, 5> kRolloutPhasesNames = {"Progressing", "Paused", "Healthy",
                                                            "Degraded", "Aborted"};
constexpr std::array<std::string_view, 3> kVerdictsNames = {"Passed", "Failed", "Skipped"};
constexpr std::array<std::string_view, 5> kWatchEventTypesNames = {"SNAPSHOT", "ADDED", "MODIFIED",
                                                              "DELETED", "BOOKMARK"};
constexpr std::array<std::string_view, 5> kSchedulingPoliciesNames = {"duet", "leastRequest", "roundRobin",
                                                                 "prefix", "sessionAffinity"};

template <class Enum, std::size_t N>
std::optional<Enum> find(const std::array<std::string_view, N>& names, std::string_view text) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == text) return static_cast<Enum>(i);
  return std::nullopt;
}

}  // namespace

std::string_view to_string(Track track) { return kTracksNames.at(static_cast<std::size_t>(track)); }
std::string_view to_string(StrategyType type) { return kStrategyTypesNames.at(static_cast<std::size_t>(type)); }
std::string_view to_string(Capacity capacity) { return kCapacitiesNames.at(static_cast<std::size_t>(capacity)); }
std::string_view to_string(EngineState state) { return kEngineStatesNames.at(static_cast<std::size_t>(state)); }

std::string_view to_string(RolloutPhase phase) { return kRolloutPhasesNames.at(static_cast<std::size_t>(phase)); }
std::string_view to_string(Verdict verdict) { return kVerdictsNames.at(static_cast<std::size_t>(verdict)); }
std::string_view to_string(WatchEventType type) { return kWatchEventTypesNames.at(static_cast<std::size_t>(type)); }
std::string_view to_string(SchedulingPolicy policy) {
  return kSchedulingPoliciesNames.at(static_cast<std::size_t>(policy));
}

std::optional<Track> parse_track(std::string_view text) { return find<Track>(kTracksNames, text); }
std::optional<StrategyType> parse_strategy_type(std::string_view text) {
  return find<StrategyType>(kStrategyTypesNames, text);
}
std::optional<Capacity> parse_capacity(std::string_view text) {
  return find<Capacity>(kCapacitiesNames, text);
}
std::optional<EngineState> parse_engine_state(std::string_view text) {
  return find<EngineState>(kEngineStatesNames, text);
}

std::optional<RolloutPhase> parse_rollout_phase(std::string_view text) {
  return find<RolloutPhase>(kRolloutPhasesNames, text);
}
std::optional<Verdict> parse_verdict(std::string_view text) { return find<Verdict>(kVerdictsNames, text); }
std::optional<WatchEventType> parse_watch_event_type(std::string_view text) {
  return find<WatchEventType>(kWatchEventTypesNames, text);
}
std::optional<SchedulingPolicy> parse_scheduling_policy(std::string_view text) {
  return find<SchedulingPolicy>(kSchedulingPoliciesNames, text);
}

}  // namespace duet::api
