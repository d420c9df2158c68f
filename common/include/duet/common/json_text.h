#pragma once
// JSON text of values that may hold outside bytes (paths, names, query values, manifest
// fields): invalid UTF-8 becomes U+FFFD instead of an exception from the middle of a reply.

#include <nlohmann/json.hpp>
#include <string>

namespace duet {

// `value.dump(indent)` with invalid UTF-8 replaced; never throws json::type_error 316.
std::string json_text(const nlohmann::json& value, int indent = -1);

}  // namespace duet
