#include "router/yaml_fields.h"

#include <algorithm>
#include <charconv>

namespace duet::router {

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return is_plain_scalar(node) ? node.Scalar() : "\"" + node.Scalar() + "\"";
    default:
      return "nothing";
  }
}

bool is_plain_scalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() != "!"; }

YamlFields::YamlFields(const YAML::Node& node, std::string file, std::string path)
    : node_(node), file_(std::move(file)), path_(std::move(path)) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap())
    fail(path_, "expected a mapping, got " + describe(node_));
}

void YamlFields::fail(const std::string& path, const std::string& message) const {
  throw ConfigError(file_ + ": " + (path.empty() ? "" : path + ": ") + message);
}

std::string YamlFields::child_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

bool YamlFields::has(const std::string& key) const {
  return node_.IsMap() && node_[key].IsDefined() && !node_[key].IsNull();
}

YAML::Node YamlFields::child(const std::string& key) {
  read_.push_back(key);
  if (!node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  YAML::Node value = node_[key];
  return value.IsNull() ? YAML::Node(YAML::NodeType::Undefined) : value;
}

std::string YamlFields::string(const std::string& key, std::string fallback) {
  YAML::Node value = child(key);
  if (!value.IsDefined()) return fallback;
  if (!value.IsScalar()) fail(child_path(key), "expected string, got " + describe(value));
  return value.Scalar();
}

uint64_t YamlFields::integer(const std::string& key, uint64_t fallback, uint64_t min,
                             uint64_t max) {
  YAML::Node value = child(key);
  if (!value.IsDefined()) return fallback;
  const std::string text = value.IsScalar() ? value.Scalar() : std::string();
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (!is_plain_scalar(value) || ec != std::errc() || end != text.data() + text.size())
    fail(child_path(key), "expected integer, got " + describe(value));
  if (n < min || n > max)
    fail(child_path(key), "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                              ", got " + text);
  return n;
}

double YamlFields::number(const std::string& key, double fallback) {
  YAML::Node value = child(key);
  if (!value.IsDefined()) return fallback;
  double n = 0;
  if (!is_plain_scalar(value) || !YAML::convert<double>::decode(value, n) || n < 0)
    fail(child_path(key), "expected a non-negative number, got " + describe(value));
  return n;
}

bool YamlFields::boolean(const std::string& key, bool fallback) {
  YAML::Node value = child(key);
  if (!value.IsDefined()) return fallback;
  if (is_plain_scalar(value) && (value.Scalar() == "true" || value.Scalar() == "false"))
    return value.Scalar() == "true";
  fail(child_path(key), "expected true or false, got " + describe(value));
}

void YamlFields::reject_unknown() const {
  if (!node_.IsMap()) return;
  for (const auto& entry : node_) {
    const std::string key = entry.first.Scalar();
    if (std::find(read_.begin(), read_.end(), key) == read_.end())
      fail(child_path(key), "unknown field");
  }
}

}  // namespace duet::router
