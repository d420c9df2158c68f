// Manifests as duetd takes them on POST /apis/v1/apply and duetctl apply -f (YAML or JSON,
// several documents, UTF-8 only as node_api.cc checks): common/src/yaml_to_json.cc,
// then daemon/manifest/parser.cc.
// Checks: parse_manifests fails only with ApplyError (it wraps yaml_documents_to_json's
// YAML::Exception and YamlLimitExceeded), whose reply body can be written; every object it
// accepts can be written to the checkpoint (JSON text, no exception) and read back from it
// as the same object (what a restart does).
// Text with an alias is first converted within a small budget (kFuzzLimits): one that goes
// over it is an alias bomb, whose refusal that run has checked (YamlLimitExceeded, the same
// code as with the default limits); run again with the defaults, each bomb the fuzzer finds
// would cost ~100,000 nodes on every mutation of it.

#include <cstdint>
#include <yaml-cpp/exceptions.h>

#include "daemon/manifest/parser.h"
#include "duet/common/yaml_to_json.h"
#include "duet/common/openai_error.h"
#include "duet/common/utf8.h"
#include "fuzz_check.h"

namespace {

using namespace duet::manifest;
using duet::yaml_documents_to_json;
using duet::YamlLimitExceeded;
using duet::YamlLimits;

constexpr YamlLimits kFuzzLimits{.max_nodes = 2'000, .max_string_bytes = 64 * 1024,
                                 .max_depth = 64, .max_aliases = 100};

// Whether `text` goes over kFuzzLimits (bad syntax does not: parse_manifests reports it).
bool alias_bomb(std::string_view text) {
  if (text.find('*') == std::string_view::npos) return false;  // no alias: linear in the text
  try {
    yaml_documents_to_json(text, kFuzzLimits);
  } catch (const YamlLimitExceeded&) {
    return true;
  } catch (const YAML::Exception&) {
  }
  return false;
}

void check_stored(const Object& object) {
  nlohmann::json stored = object_to_json(object);
  std::string text = stored.dump();  // as checkpoint_file.cc writes it: throws on bad UTF-8
  Object restored = decode_object(nlohmann::json::parse(text));
  DUET_FUZZ_CHECK(object_to_json(restored) == stored, text);
  DUET_FUZZ_CHECK(kind_of(restored) == kind_of(object) && name_of(restored) == name_of(object),
                  text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (duet::first_invalid_utf8(text)) return 0;  // 400 before the parser (node_api.cc)
  if (alias_bomb(text)) return 0;
  std::vector<ParsedObject> objects;
  try {
    objects = parse_manifests(text, "fuzz.yaml");
  } catch (const ApplyError& e) {
    // node_api.cc answers 400 with this body
    duet::openai_error_body(400, e.what(), duet::openai_error_type(400), e.where());
    return 0;
  }
  for (const auto& parsed : objects) check_stored(parsed.object);
  return 0;
}
