#pragma once
// The one strict reader of JSON objects that duet's contract is made of (manifests, watch
// stream objects, traffic reports, duetd's config): each field checked for type and range,
// required fields enforced, unknown fields rejected, every error naming the field path.
// What a user wrote (a manifest) is read with Unknown::reject; what another duet process sent
// (a watch stream from a newer duetd) with Unknown::ignore, as Kubernetes clients decode.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <string>
#include <string_view>
#include <vector>

namespace duet::api {

// A validation failure at `path` (like `spec.replicas`).
class FieldError : public std::runtime_error {
 public:
  FieldError(std::string path, std::string message)
      : std::runtime_error(path + ": " + message),
        path_(std::move(path)),
        message_(std::move(message)) {}
  const std::string& path() const { return path_; }
  // Without the path. (A key may hold a NUL byte: what() as a C string stops there.)
  const std::string& message() const { return message_; }

 private:
  std::string path_;
  std::string message_;
};

// How a JSON value looks in an error message: `"two"`, `3`, `a list`.
std::string describe(const nlohmann::json& value);

// What reject_unknown() does with a field nobody read.
enum class Unknown { reject, ignore };

class FieldReader {
 public:
  // `object` must be a JSON object, else FieldError at `path`.
  FieldReader(const nlohmann::json& object, std::string path, Unknown unknown = Unknown::reject);
  // A reader of the nested object at `key` (required: FieldError when absent), with this
  // one's policy for unknown fields.
  FieldReader child(const std::string& key);

  const std::string& path() const { return path_; }
  std::string child_path(const std::string& key) const;
  bool has(const std::string& key) const;

  std::string string(const std::string& key);  // required, non-empty
  std::optional<std::string> optional_string(const std::string& key);
  // A string that may be empty; "" when absent.
  std::string text(const std::string& key);
  bool boolean(const std::string& key, bool fallback);
  int64_t integer(const std::string& key, int64_t fallback, int64_t min, int64_t max);
  double number(const std::string& key, double fallback, double min, double max);
  // nullopt when absent or null.
  std::optional<int64_t> optional_integer(const std::string& key, int64_t min, int64_t max);
  std::optional<double> optional_number(const std::string& key, double min, double max);
  // A required or optional nested object; nullptr when absent.
  const nlohmann::json* object(const std::string& key, bool required = false);
  const nlohmann::json* array(const std::string& key, bool required = false);
  // A map of string to string (labels, env).
  std::map<std::string, std::string> string_map(const std::string& key);
  std::vector<std::string> string_list(const std::string& key, bool required);
  // A name out of a closed set (duet/api/enums.h): `parse` maps it to its value, `expected`
  // lists the names for the error message.
  // Without a fallback the field is required.
  template <class Enum>
  Enum choice(const std::string& key, std::type_identity_t<std::optional<Enum>> fallback,
              std::optional<Enum> (*parse)(std::string_view), const char* expected) {
    auto text = fallback ? optional_string(key) : string(key);
    if (!text) return *fallback;
    if (auto value = parse(*text)) return *value;
    throw FieldError(child_path(key), std::string("expected ") + expected + ", got \"" + *text + "\"");
  }
  // Marks a field as known without reading it (read elsewhere).
  void skip(const std::string& key);

  // With Unknown::reject, throws for the first field that was never read.
  void reject_unknown() const;

 private:
  const nlohmann::json* find(const std::string& key);
  // The object (or, with `list`, the array) at `key`; nullptr when absent and not required.
  const nlohmann::json* nested(const std::string& key, bool required, bool list);

  const nlohmann::json& object_;
  std::string path_;
  Unknown unknown_;
  std::vector<std::string> seen_;
};

}  // namespace duet::api
