#pragma once
// The parts every duet object shares with Kubernetes objects: apiVersion and metadata.

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "duet/api/field_reader.h"

namespace duet::api {

inline constexpr const char* kDuetApiVersion = "duet/v1alpha1";

struct Metadata {
  std::string name;
  std::map<std::string, std::string> labels;
};

// Reads `metadata` of `doc`: a DNS-label name and labels (namespace and annotations are
// accepted for kubectl-shaped files and left out: duet has one namespace).
Metadata read_metadata(FieldReader& doc);
nlohmann::json to_json(const Metadata& metadata);

// Reads `apiVersion` and throws FieldError unless it is `expected`.
void expect_api_version(FieldReader& doc, const std::string& expected);

}  // namespace duet::api
