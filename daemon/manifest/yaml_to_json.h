#pragma once
// YAML documents as JSON values, so one strict reader validates both input formats.
// Quoted YAML scalars stay strings: `replicas: "2"` is a string, as in Kubernetes.

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

namespace duet::manifest {

// Every document of `text` (null for an empty one). Throws YAML::Exception on bad syntax.
std::vector<nlohmann::json> yaml_documents_to_json(std::string_view text);

}  // namespace duet::manifest
