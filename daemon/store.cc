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
      const char* field = r->size_routing ? "spec.sizeRouting" : "spec.backend";
      for (const auto& dep : r->deployments())
        if (!exists("EngineDeployment", dep, objects))
          throw ApplyError(where(source, p.document, field),
                           "EngineDeployment \"" + dep + "\" not found");
    }
  }
}

void Store::persist_or_undo(std::map<std::string, std::map<std::string, StoredObject>> before) {
  if (!persist_) return;
  try {
    persist_();
  } catch (...) {
    objects_ = std::move(before);
    throw;
  }
}

std::vector<ApplyOutcome> Store::apply(const std::vector<manifest::ParsedObject>& objects,
                                       const std::string& source) {
  check_references(objects, source);
  std::vector<ApplyOutcome> outcomes;
  std::vector<std::pair<api::WatchEventType, std::pair<std::string, std::string>>> changes;
  auto before = objects_;
  for (const auto& p : objects) {
    auto kind = manifest::kind_of(p.object);
    const auto& name = manifest::name_of(p.object);
    auto& slot = objects_[kind];
    auto it = slot.find(name);
    if (it != slot.end() &&
        manifest::object_to_json(it->second.object) == manifest::object_to_json(p.object)) {
      outcomes.push_back({kind, name, "unchanged"});
      continue;
    }
    bool is_new = it == slot.end();
    // Each change is published with the next resourceVersion, in this order, below.
    uint64_t version = hub_.resource_version() + changes.size() + 1;
    slot[name] = StoredObject{p.object, version, is_new ? 1 : it->second.generation + 1};
    outcomes.push_back({kind, name, is_new ? "created" : "configured"});
    changes.push_back({is_new ? api::WatchEventType::added : api::WatchEventType::modified, {kind, name}});
  }
  if (changes.empty()) return outcomes;
  persist_or_undo(std::move(before));
  for (const auto& [type, key] : changes)
    hub_.publish(type, key.first, to_json(objects_[key.first].at(key.second)));
  if (on_change_) on_change_();
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
  auto before = objects_;
  objects_[kind].erase(name);
  persist_or_undo(std::move(before));
  hub_.publish(api::WatchEventType::deleted, kind, std::move(last));
  if (on_change_) on_change_();
}

json Store::checkpoint_json() const {
  json out = json::object();
  for (const auto& [kind, slot] : objects_) {
    auto& list = out[kind] = json::array();
    for (const auto& [name, stored] : slot)
      list.push_back({{"manifest", manifest::object_to_json(stored.object)},
                      {"resourceVersion", stored.resource_version},
                      {"generation", stored.generation}});
  }
  return out;
}

std::vector<std::string> Store::restore(const json& checkpoint) {
  std::vector<std::string> problems;
  for (const auto& [kind, list] : checkpoint.items()) {
    for (const auto& entry : list) {
      try {
        auto object = manifest::decode_object(entry.at("manifest"));
        objects_[manifest::kind_of(object)][manifest::name_of(object)] =
            StoredObject{object, entry.at("resourceVersion").get<uint64_t>(),
                         entry.at("generation").get<int64_t>()};
      } catch (const std::exception& e) {
        std::string name = "?";
        if (entry.is_object()) name = entry.value(json::json_pointer("/manifest/metadata/name"), name);
        problems.push_back(kind + " \"" + name + "\": " + e.what());
      }
    }
  }
  return problems;
}

json Store::to_json(const StoredObject& stored) const {
  auto j = manifest::object_to_json(stored.object);
  j["metadata"]["resourceVersion"] = std::to_string(stored.resource_version);
  j["metadata"]["generation"] = stored.generation;
  if (status_source_ && std::holds_alternative<manifest::EngineDeployment>(stored.object)) {
    auto status = status_source_(manifest::name_of(stored.object));
    status.observed_generation = stored.generation;
    j["status"] = api::to_json(status);
  }
  return j;
}

json Store::list_json(const std::string& kind) const {
  json items = json::array();
  for (const auto& [name, stored] : objects(kind)) items.push_back(to_json(stored));
  return items;
}

}  // namespace duet::daemon
