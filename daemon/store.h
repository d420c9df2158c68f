#pragma once
// duetd's desired state: the RuntimeClasses, EngineDeployments and Routes users applied.
// An apply is validated whole (cross-references included) before anything is stored.

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "daemon/manifest/parser.h"
#include "daemon/watch_hub.h"
#include "duet/api/deployment_status.h"

namespace duet::daemon {

struct StoredObject {
  manifest::Object object;
  uint64_t resource_version = 0;
  int64_t generation = 1;
};

struct ApplyOutcome {
  std::string kind;
  std::string name;
  std::string result;  // created | configured | unchanged
};

class Store {
 public:
  explicit Store(WatchHub& hub) : hub_(hub) {}

  // Validates `objects` against each other and what is stored, then stores them all, or
  // nothing: throws manifest::ApplyError naming `source[doc] field`.
  std::vector<ApplyOutcome> apply(const std::vector<manifest::ParsedObject>& objects,
                                  const std::string& source);
  // Throws HttpError 404 when absent, 409 when another object still refers to it.
  void remove(const std::string& kind, const std::string& name);

  // `kind` is RuntimeClass, EngineDeployment or Route.
  const std::map<std::string, StoredObject>& objects(const std::string& kind) const;
  // The object as the API shows it: manifest JSON plus resourceVersion and generation.
  nlohmann::json to_json(const StoredObject& stored) const;
  nlohmann::json list_json(const std::string& kind) const;

  // Runs inside every apply and delete, after the change and before it is published or
  // answered: duetd writes its checkpoint here. When it throws, the change is undone and
  // the exception passes on (the caller sees the apply fail; nothing was stored).
  void set_persist(std::function<void()> persist) { persist_ = std::move(persist); }
  // The stored objects for the checkpoint, and back (at start, before anything else runs).
  nlohmann::json checkpoint_json() const;
  // Restores what checkpoint_json() gave; returns problems (objects that no longer pass
  // validation are left out and named), empty when all came back.
  std::vector<std::string> restore(const nlohmann::json& checkpoint);

  // Runs after every change of desired state (the reconcile trigger).
  void on_change(std::function<void()> callback) { on_change_ = std::move(callback); }
  // Adds deployment status (replicas, ready...) to the JSON of deployments.
  void set_status_source(std::function<api::DeploymentStatus(const std::string&)> source) {
    status_source_ = std::move(source);
  }

 private:
  void check_references(const std::vector<manifest::ParsedObject>& objects,
                        const std::string& source) const;
  bool exists(const std::string& kind, const std::string& name,
              const std::vector<manifest::ParsedObject>& batch) const;
  // Calls persist_ with objects_ already changed; on failure puts `before` back and rethrows.
  void persist_or_undo(std::map<std::string, std::map<std::string, StoredObject>> before);

  WatchHub& hub_;
  std::map<std::string, std::map<std::string, StoredObject>> objects_;
  std::function<void()> persist_;
  std::function<void()> on_change_;
  std::function<api::DeploymentStatus(const std::string&)> status_source_;
};

}  // namespace duet::daemon
