#include "duet/api/metadata.h"

#include <algorithm>
#include <cctype>

namespace duet::api {

namespace {

// A Kubernetes DNS label: lower-case letters, digits and '-', starting and ending with a
// letter or digit, at most 63 characters.
bool is_dns_label(const std::string& name) {
  auto alnum = [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c));
  };
  if (name.empty() || name.size() > 63 || !alnum(name.front()) || !alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return alnum(c) || c == '-'; });
}

}  // namespace

Metadata read_metadata(FieldReader& doc) {
  FieldReader meta = doc.child("metadata");
  Metadata m;
  m.name = meta.string("name");
  if (!is_dns_label(m.name))
    throw FieldError("metadata.name",
                     "\"" + m.name + "\" is not a valid name (lower-case letters, digits, '-')");
  m.labels = meta.string_map("labels");
  meta.skip("namespace");
  meta.skip("annotations");
  meta.reject_unknown();
  return m;
}

nlohmann::json to_json(const Metadata& metadata) {
  nlohmann::json j = {{"name", metadata.name}};
  if (!metadata.labels.empty()) j["labels"] = metadata.labels;
  return j;
}

void expect_api_version(FieldReader& doc, const std::string& expected) {
  auto api = doc.string("apiVersion");
  if (api != expected)
    throw FieldError("apiVersion", "expected \"" + expected + "\", got \"" + api + "\"");
}

}  // namespace duet::api
