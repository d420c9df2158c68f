// duet-router's configuration file (router/config.cc parse_config, read as JSON by
// common/src/yaml_to_json.cc and duet/api's FieldReader).
// Checks: a file is refused only with ConfigError (whose message names the file), and an
// accepted one holds the ranges config.h documents.

#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "router/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string yaml(reinterpret_cast<const char*>(data), size);
  duet::router::RouterConfig config;
  try {
    config = duet::router::parse_config(yaml, "fuzz.yaml");
  } catch (const duet::router::ConfigError& e) {
    DUET_FUZZ_CHECK(std::string_view(e.what()).starts_with("fuzz.yaml"), e.what());
    return 0;
  }
  const auto& limits = config.limits;
  DUET_FUZZ_CHECK(limits.max_body_bytes >= 1 && limits.max_header_bytes >= 1024 &&
                      limits.max_header_bytes <= 65535, yaml);
  DUET_FUZZ_CHECK(limits.header_timeout.count() >= 1 && limits.max_connections >= 1, yaml);
  DUET_FUZZ_CHECK(config.threads <= 1024, yaml);
  for (const auto& listen : config.listen)
    if (listen.tls) DUET_FUZZ_CHECK(!listen.tls->cert.empty() && !listen.tls->key.empty(), yaml);
  if (config.rate_limit) DUET_FUZZ_CHECK(config.rate_limit->requests_per_second > 0, yaml);
  return 0;
}
