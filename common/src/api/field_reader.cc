#include "duet/api/field_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "duet/common/json_text.h"

namespace duet::api {

std::string describe(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "a list";
    case nlohmann::json::value_t::null: return "null";
    default: return json_text(value);
  }
}

FieldReader::FieldReader(const nlohmann::json& object, std::string path, Unknown unknown)
    : object_(object), path_(std::move(path)), unknown_(unknown) {
  if (!object_.is_object())
    throw FieldError(path_.empty() ? "(document)" : path_,
                        "expected an object, got " + describe(object_));
}

FieldReader FieldReader::child(const std::string& key) {
  return FieldReader(*object(key, true), child_path(key), unknown_);
}

std::string FieldReader::child_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

bool FieldReader::has(const std::string& key) const { return object_.contains(key); }

const nlohmann::json* FieldReader::find(const std::string& key) {
  seen_.push_back(key);
  auto it = object_.find(key);
  return it == object_.end() || it->is_null() ? nullptr : &*it;
}

std::string FieldReader::string(const std::string& key) {
  auto value = optional_string(key);
  if (!value) throw FieldError(child_path(key), "required field is missing");
  return *value;
}

std::optional<std::string> FieldReader::optional_string(const std::string& key) {
  const auto* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) throw FieldError(child_path(key), "expected string, got " + describe(*v));
  if (v->get_ref<const std::string&>().empty())
    throw FieldError(child_path(key), "must not be empty");
  return v->get<std::string>();
}

std::string FieldReader::text(const std::string& key) {
  const auto* v = find(key);
  if (!v) return {};
  if (!v->is_string()) throw FieldError(child_path(key), "expected string, got " + describe(*v));
  return v->get<std::string>();
}

bool FieldReader::boolean(const std::string& key, bool fallback) {
  const auto* v = find(key);
  if (!v) return fallback;
  if (!v->is_boolean()) throw FieldError(child_path(key), "expected true or false, got " + describe(*v));
  return v->get<bool>();
}

int64_t FieldReader::integer(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
  const auto* v = find(key);
  if (!v) return fallback;
  if (!v->is_number_integer())
    throw FieldError(child_path(key), "expected integer, got " + describe(*v));
  // An unsigned past int64 would wrap to a negative number in the message.
  bool too_big = v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX);
  auto n = v->get<int64_t>();
  if (too_big)
    throw FieldError(child_path(key), "must be between " + std::to_string(min) + " and " +
                                             std::to_string(max) + ", got " + json_text(*v));
  if (n < min || n > max)
    throw FieldError(child_path(key), "must be between " + std::to_string(min) + " and " +
                                             std::to_string(max) + ", got " + std::to_string(n));
  return n;
}

double FieldReader::number(const std::string& key, double fallback, double min, double max) {
  const auto* v = find(key);
  if (!v) return fallback;
  if (!v->is_number()) throw FieldError(child_path(key), "expected number, got " + describe(*v));
  auto n = v->get<double>();
  if (!(n >= min && n <= max))
    throw FieldError(child_path(key), "must be between " + json_text(min) + " and " +
                                             json_text(max) + ", got " + json_text(*v));
  return n;
}

std::optional<int64_t> FieldReader::optional_integer(const std::string& key, int64_t min, int64_t max) {
  if (!find(key)) return std::nullopt;
  return integer(key, 0, min, max);
}

std::optional<double> FieldReader::optional_number(const std::string& key, double min, double max) {
  if (!find(key)) return std::nullopt;
  return number(key, 0, min, max);
}

const nlohmann::json* FieldReader::nested(const std::string& key, bool required, bool list) {
  const auto* v = find(key);
  if (!v) {
    if (required) throw FieldError(child_path(key), "required field is missing");
    return nullptr;
  }
  if (list ? !v->is_array() : !v->is_object())
    throw FieldError(child_path(key), std::string("expected ") + (list ? "a list" : "an object") +
                                          ", got " + describe(*v));
  return v;
}

const nlohmann::json* FieldReader::object(const std::string& key, bool required) {
  return nested(key, required, false);
}

const nlohmann::json* FieldReader::array(const std::string& key, bool required) {
  return nested(key, required, true);
}

std::map<std::string, std::string> FieldReader::string_map(const std::string& key) {
  std::map<std::string, std::string> out;
  const auto* v = object(key);
  if (!v) return out;
  for (const auto& [k, item] : v->items()) {
    if (!item.is_string())
      throw FieldError(child_path(key) + "." + k, "expected string, got " + describe(item));
    out[k] = item.get<std::string>();
  }
  return out;
}

std::vector<std::string> FieldReader::string_list(const std::string& key, bool required) {
  std::vector<std::string> out;
  const auto* v = array(key, required);
  if (!v) return out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const auto& item = (*v)[i];
    if (!item.is_string())
      throw FieldError(child_path(key) + "[" + std::to_string(i) + "]",
                          "expected string, got " + describe(item));
    out.push_back(item.get<std::string>());
  }
  if (required && out.empty()) throw FieldError(child_path(key), "must not be empty");
  return out;
}

void FieldReader::skip(const std::string& key) { seen_.push_back(key); }

void FieldReader::reject_unknown() const {
  if (unknown_ == Unknown::ignore) return;
  for (const auto& [key, value] : object_.items()) {
    if (std::find(seen_.begin(), seen_.end(), key) == seen_.end())
      throw FieldError(child_path(key), "unknown field");
  }
}

}  // namespace duet::api
