#pragma once
// Strict reading of a YAML mapping for the router's config file: each field checked for
// type, unknown fields rejected, and every error names the file and the field path.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "router/config.h"

namespace duet::router {

class YamlFields {
 public:
  // `node` must be a mapping (or absent/null, read as empty), else ConfigError at `path`.
  YamlFields(const YAML::Node& node, std::string file, std::string path);

  bool has(const std::string& key) const;
  std::string string(const std::string& key, std::string fallback = {});
  uint64_t integer(const std::string& key, uint64_t fallback, uint64_t min, uint64_t max);
  double number(const std::string& key, double fallback);
  bool boolean(const std::string& key, bool fallback);
  // The raw child, marked as read; an undefined node when absent.
  YAML::Node child(const std::string& key);
  std::string child_path(const std::string& key) const;

  // Throws for the first key that was never read.
  void reject_unknown() const;

  // `FILE: PATH: message`.
  [[noreturn]] void fail(const std::string& path, const std::string& message) const;

 private:
  YAML::Node node_;
  std::string file_;
  std::string path_;
  std::vector<std::string> read_;
};

// `"two"` or `a list` or `a mapping`: how a value looks in a type error.
std::string describe(const YAML::Node& node);
// A scalar that was written without quotes (so `8080` is a number, `"8080"` a string).
bool is_plain_scalar(const YAML::Node& node);

}  // namespace duet::router
