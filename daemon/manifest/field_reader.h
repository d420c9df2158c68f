#pragma once
// Strict reading of one manifest object: each field checked for type, required fields
// enforced, unknown fields rejected, and every error names the field path.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace duet::manifest {

// A validation failure at `path` (like `spec.replicas`).
class ManifestError : public std::runtime_error {
 public:
  ManifestError(std::string path, std::string message)
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

class FieldReader {
 public:
  // `object` must be a JSON object, else ManifestError at `path`.
  FieldReader(const nlohmann::json& object, std::string path);

  std::string child_path(const std::string& key) const;
  bool has(const std::string& key) const;

  std::string string(const std::string& key);  // required, non-empty
  std::optional<std::string> optional_string(const std::string& key);
  int64_t integer(const std::string& key, int64_t fallback, int64_t min, int64_t max);
  double number(const std::string& key, double fallback, double min, double max);
  // A required or optional nested object; nullptr when absent.
  const nlohmann::json* object(const std::string& key, bool required = false);
  const nlohmann::json* array(const std::string& key, bool required = false);
  // A map of string to string (labels, env).
  std::map<std::string, std::string> string_map(const std::string& key);
  std::vector<std::string> string_list(const std::string& key, bool required);
  // Marks a field as known without reading it (read elsewhere).
  void skip(const std::string& key);

  // Throws for the first field that was never read: unknown fields are errors.
  void reject_unknown() const;

 private:
  const nlohmann::json* find(const std::string& key);

  const nlohmann::json& object_;
  std::string path_;
  std::vector<std::string> seen_;
};

}  // namespace duet::manifest
