#pragma once
// Turns manifest text (YAML or JSON, several documents) into validated objects.
// Every error names the source file, the document index and the field path.

#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/manifest/objects.h"

namespace duet::manifest {

using Object = std::variant<RuntimeClass, EngineDeployment, Route>;

struct ParsedObject {
  std::size_t document = 0;  // index in the source, from 0
  Object object;
};

// A parse or validation error; `where` is `file[doc] field.path` for the API's `param`.
class ApplyError : public std::runtime_error {
 public:
  ApplyError(std::string where, const std::string& message)
      : std::runtime_error(where + ": " + message), where_(std::move(where)) {}
  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

// Parses every document of `text`; empty documents are skipped. Throws ApplyError.
std::vector<ParsedObject> parse_manifests(std::string_view text, const std::string& source);

// Decodes one document already in JSON form. Throws api::FieldError (field path only).
Object decode_object(const nlohmann::json& document);

std::string kind_of(const Object& object);
const std::string& name_of(const Object& object);
nlohmann::json object_to_json(const Object& object);

// The longest duration a manifest or duetctl takes: a year, so that any duration converts
// to nanoseconds (std::chrono clocks) without overflow.
inline constexpr int64_t kMaxDurationSeconds = 8760 * 3600;

// "30s", "2m", "1h", "1500ms" (rounded up to whole seconds), at most 8760h. Throws
// std::invalid_argument saying which.
int64_t parse_duration_seconds(const std::string& text);

}  // namespace duet::manifest
