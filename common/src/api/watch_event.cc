#include "duet/api/watch_event.h"

#include "duet/api/field_reader.h"

namespace duet::api {

using nlohmann::json;

json snapshot_event(uint64_t version, const std::string& state_epoch, const std::string& node) {
  return {{"type", to_string(WatchEventType::snapshot)},
          {"resourceVersion", version},
          {"stateEpoch", state_epoch},
          {"node", node}};
}

json change_event(WatchEventType type, const std::string& kind, uint64_t version, json object) {
  return {{"type", to_string(type)}, {"kind", kind}, {"resourceVersion", version}, {"object", std::move(object)}};
}

json bookmark_event(uint64_t version, const std::string& state_epoch) {
  return {{"type", to_string(WatchEventType::bookmark)},
          {"resourceVersion", version},
          {"stateEpoch", state_epoch}};
}

// Appended piece by piece: GCC 12 at -O2 takes the chain of + on temporaries for an
// out-of-bounds memcpy (-Warray-bounds, a known false positive).
std::string resume_target(uint64_t version, const std::string& state_epoch) {
  std::string target = kWatchPath;
  target.append("?").append(kResumeVersionParam).append("=").append(std::to_string(version));
  target.append("&").append(kResumeEpochParam).append("=").append(state_epoch);
  return target;
}

WatchEvent read_watch_event(const json& line) {
  FieldReader r(line, "", Unknown::ignore);  // the lists and kinds a newer duetd adds
  WatchEvent event;
  auto type = r.string("type");
  auto parsed = parse_watch_event_type(type);
  if (!parsed) throw FieldError("type", "unknown watch event \"" + type + "\"");
  event.type = *parsed;
  if (auto version = r.optional_integer("resourceVersion", 0, INT64_MAX))
    event.resource_version = static_cast<uint64_t>(*version);
  event.state_epoch = r.text("stateEpoch");
  event.node = r.text("node");
  if (event.type == WatchEventType::added || event.type == WatchEventType::modified ||
      event.type == WatchEventType::deleted) {
    event.kind = r.string("kind");
    event.object = r.object("object", true);
  }
  return event;
}

}  // namespace duet::api
