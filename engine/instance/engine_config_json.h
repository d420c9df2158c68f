#pragma once
// An EngineConfig as JSON, for duetd's checkpoint: an engine adopted after a restart is
// supervised with exactly what it was started with, even if its deployment changed since.

#include <nlohmann/json.hpp>

#include "engine/instance/engine_instance.h"

namespace duet::engine {

nlohmann::json config_to_json(const EngineConfig& config);
// Throws nlohmann::json::exception on a missing or mistyped field, std::invalid_argument on a
// track that is neither stable nor canary.
EngineConfig config_from_json(const nlohmann::json& j);

}  // namespace duet::engine
