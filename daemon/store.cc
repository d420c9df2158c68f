#include "daemon/store.h"

#include <set>

#include "duet/common/http_error.h"

namespace duet::daemon {

using manifest::ApplyError;
using nlohmann::json;

namespace {
const std::map<std::string, StoredObject> kEmpty;

std::string where(const std::string& source, std::size_t doc, const std::string& field) {
  return source + "[" + std::to_string(doc) + "] " + field;
}
}  // namespace

const std::map<std::string, StoredObject>& Store::objects(const std::string& kind) const {
  auto it = objects_.find(kind);
  return it == objects_.end() ? kEmpty : it->second;
}

bool Store::exists(const std::string& kind, const std::string& name,
                   const std::vector<manifest::ParsedObject>& batch) const {
  if (objects(kind).count(name)) return true;
  for (const auto& p : batch)
    if (manifest::kind_of(p.object) == kind && manifest::name_of(p.object) == name) return true;
  return false;
}

void Store::check_references(const std::vector<manifest::ParsedObject>& objects,
                             const std::string& source) const {
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& p : objects) {
    auto key = std::make_pair(manifest::kind_of(p.object), manifest::name_of(p.object));
    if (!seen.insert(key).second)
      throw ApplyError(where(source, p.document, "metadata.name"),
                       key.first + " \"" + key.second + "\" appears twice in this apply");
    if (const auto* d = std::get_if<manifest::EngineDeployment>(&p.object)) {
      if (!exists("RuntimeClass", d->runtime_class, objects))
        throw ApplyError(where(source, p.document, "spec.runtimeClassName"),
                         "RuntimeClass \"" + d->runtime_class + "\" not found");
    }
    if (const auto* r = std::get_if<manifest::Route>(&p.object)) {
      const char* field = r->backend ? "spec.backend" : "spec.sizeRouting";
      for (const auto& dep : r->deployments())
        if (!exists("EngineDeployment", dep, objects))
          throw ApplyError(where(source, p.document, field),
                           "EngineDeployment \"" + dep + "\" not found");
    }
  }
}

std::vector<ApplyOutcome> Store::apply(const std::vector<manifest::ParsedObject>& objects,
                                       const std::string& source) {
  check_references(objects, source);
  std::vector<ApplyOutcome> outcomes;
  bool changed = false;
  for (const auto& p : objects) {
    auto kind = manifest::kind_of(p.object);
    const auto& name = manifest::name_of(p.object);
    auto& slot = objects_[kind];
    auto it = slot.find(name);
    auto incoming = manifest::object_to_json(p.object);
    if (it != slot.end() && manifest::object_to_json(it->second.object) == incoming) {
      outcomes.push_back({kind, name, "unchanged"});
      continue;
    }
    StoredObject stored{p.object, 0, it == slot.end() ? 1 : it->second.generation + 1};
    const char* type = it == slot.end() ? "ADDED" : "MODIFIED";
    outcomes.push_back({kind, name, it == slot.end() ? "created" : "configured"});
    stored.resource_version = hub_.resource_version() + 1;
    slot[name] = stored;
    hub_.publish(type, kind, to_json(slot[name]));
    changed = true;
  }
  if (changed && on_change_) on_change_();
  return outcomes;
}

void Store::remove(const std::string& kind, const std::string& name) {
  auto& slot = objects_[kind];
  auto it = slot.find(name);
  if (it == slot.end()) throw HttpError(404, kind + " \"" + name + "\" not found");
  auto users = [&](const std::string& user_kind, auto refers) {
    for (const auto& [user, stored] : objects(user_kind))
      if (refers(stored.object))
        throw HttpError(409, kind + " \"" + name + "\" is used by " + user_kind + " \"" + user + "\"");
  };
  if (kind == "RuntimeClass")
    users("EngineDeployment", [&](const manifest::Object& o) {
      return std::get<manifest::EngineDeployment>(o).runtime_class == name;
    });
  if (kind == "EngineDeployment")
    users("Route", [&](const manifest::Object& o) {
      auto deps = std::get<manifest::Route>(o).deployments();
      return std::find(deps.begin(), deps.end(), name) != deps.end();
    });
  auto last = to_json(it->second);
  slot.erase(it);
  hub_.publish("DELETED", kind, std::move(last));
  if (on_change_) on_change_();
}

json Store::to_json(const StoredObject& stored) const {
  auto j = manifest::object_to_json(stored.object);
  j["metadata"]["resourceVersion"] = std::to_string(stored.resource_version);
  j["metadata"]["generation"] = stored.generation;
  if (status_source_ && std::holds_alternative<manifest::EngineDeployment>(stored.object)) {
    j["status"] = status_source_(manifest::name_of(stored.object));
    j["status"]["observedGeneration"] = stored.generation;
  }
  return j;
}

json Store::list_json(const std::string& kind) const {
  json items = json::array();
  for (const auto& [name, stored] : objects(kind)) items.push_back(to_json(stored));
  return items;
}

}  // namespace duet::daemon
