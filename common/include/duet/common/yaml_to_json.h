#pragma once
// YAML documents as JSON values, so one strict reader (duet/api/field_reader.h) validates
// manifests, duetd's and the router's config files. Quoted scalars stay strings:
// `replicas: "2"` is a string, as in Kubernetes.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace duet {

// What one conversion may produce. Aliases make YAML a compression format ("billion laughs":
// 400 bytes that expand to gigabytes), so every copy an alias makes counts, and a budget is
// checked before the copy is made. docs/security.md says what each limit defends.
struct YamlLimits {
  std::size_t max_nodes = 100'000;                  // values and keys, alias copies included
  std::size_t max_string_bytes = 16 * 1024 * 1024;  // bytes of keys and scalars, copies included
  std::size_t max_depth = 64;                       // nesting of sequences and maps
  std::size_t max_aliases = 1'000;                  // `*name` uses in the text
};

// The text went over one of YamlLimits; what() names the limit, line() counts from 1.
class YamlLimitExceeded : public std::runtime_error {
 public:
  YamlLimitExceeded(int line, const std::string& what) : std::runtime_error(what), line_(line) {}
  int line() const { return line_; }

 private:
  int line_;
};

// Every document of `text` (null for an empty one). Throws YAML::Exception on bad syntax
// (an alias inside the node it names, and a scalar that is not UTF-8, included) and
// YamlLimitExceeded past `limits`.
std::vector<nlohmann::json> yaml_documents_to_json(std::string_view text,
                                                   const YamlLimits& limits = {});

// A config file's settings: its one document ({} for an empty file). Bad syntax, a text past
// the limits and a second document throw std::invalid_argument `NAME:LINE: message`.
nlohmann::json yaml_config_document(std::string_view text, const std::string& name);

}  // namespace duet
