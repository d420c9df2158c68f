#include "daemon/ctl/commands.h"

#include <yaml-cpp/yaml.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <map>

#include "daemon/ctl/api_call.h"
#include "daemon/ctl/table.h"
#include "deviceplugin/device_report.h"
#include "duet/api/deployment_status.h"
#include "duet/api/engine_status.h"
#include "duet/api/route.h"
#include "duet/common/http_client.h"

namespace duet::ctl {

using nlohmann::json;
namespace fs = std::filesystem;
namespace bhttp = http::bhttp;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// kubectl accepts singular, plural and short names.
std::string resource_path(const std::string& resource) {
  if (resource == "engine" || resource == "engines" || resource == "eng") return "engines";
  if (resource == "deployment" || resource == "deployments" || resource == "deploy")
    return "deployments";
  if (resource == "route" || resource == "routes") return "routes";
  if (resource == "device" || resource == "devices" || resource == "dev") return "devices";
  if (resource == "runtimeclass" || resource == "runtimeclasses" || resource == "rc")
    return "runtimeclasses";
  if (resource == "event" || resource == "events" || resource == "ev") return "events";
  throw UsageError("unknown resource type \"" + resource +
                   "\" (engines, deployments, routes, runtimeclasses, devices, events)");
}

YAML::Node to_yaml(const json& j) {
  YAML::Node node;
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) node[k] = to_yaml(v);
  } else if (j.is_array()) {
    node = YAML::Node(YAML::NodeType::Sequence);
    for (const auto& v : j) node.push_back(to_yaml(v));
  } else if (j.is_string()) {
    node = j.get<std::string>();
  } else if (!j.is_null()) {
    node = YAML::Load(j.dump());
  }
  return node;
}

void print_engines(const json& items, bool wide) {
  Table t(wide ? std::vector<std::string>{"NAME", "DEPLOYMENT", "VERSION", "TRACK", "STATE",
                                          "RESTARTS", "ENDPOINT", "PID", "MESSAGE"}
               : std::vector<std::string>{"NAME", "DEPLOYMENT", "VERSION", "STATE", "RESTARTS",
                                          "ENDPOINT"});
  for (const auto& item : items) {
    auto e = api::parse_engine_status(item);
    std::vector<std::string> row = {e.name, e.deployment, e.version};
    if (wide) row.emplace_back(api::to_string(e.track));
    row.insert(row.end(), {std::string(api::to_string(e.state)), std::to_string(e.restarts), e.endpoint});
    if (wide) row.insert(row.end(), {std::to_string(e.pid), e.message});
    t.add(row);
  }
  t.print(std::cout);
}

void print_devices(const json& items, bool wide) {
  Table t(wide ? std::vector<std::string>{"KIND", "ID", "MODEL", "MEMORY", "NUMA", "HEALTH", "ENGINE", "REASON"}
               : std::vector<std::string>{"KIND", "ID", "MODEL", "MEMORY", "HEALTH", "ENGINE"});
  for (const auto& d : items) {
    std::vector<std::string> row = {d["kind"], d["id"], d["model"], deviceplugin::format_memory(d["memoryBytes"].get<uint64_t>())};
    if (wide) row.push_back(d["numaNode"].is_null() ? "-" : std::to_string(d["numaNode"].get<int>()));
    row.push_back(d["health"]);
    row.push_back(d["engine"].get<std::string>().empty() ? "-" : d["engine"].get<std::string>());
    if (wide) row.push_back(d["reason"]);
    t.add(row);
  }
  t.print(std::cout);
}

// The node's audit events (docs/node-api.md, "Audit"): who changed what, oldest first.
void print_events(const json& items, bool wide) {
  Table t(wide ? std::vector<std::string>{"TIME", "TYPE", "REASON", "USER", "OBJECTS", "STATUS", "MESSAGE"}
               : std::vector<std::string>{"TIME", "TYPE", "REASON", "USER", "OBJECTS"});
  for (const auto& e : items) {
    std::string objects;
    for (const auto& o : e["objects"])
      objects += (objects.empty() ? "" : ",") + lower(o.value("kind", "")) + "/" + o.value("name", "");
    std::vector<std::string> row = {e["timestamp"], e["type"], e["reason"], e["user"],
                                    objects.empty() ? "-" : objects};
    if (wide) row.insert(row.end(), {std::to_string(e["status"].get<int>()), e["message"]});
    t.add(row);
  }
  t.print(std::cout);
}

void print_manifests(const std::string& resource, const json& items) {
  if (resource == "deployments") {
    Table t({"NAME", "RUNTIMECLASS", "VERSION", "READY", "DEVICES"});
    for (const auto& d : items)
      t.add({d["metadata"]["name"], d["spec"]["runtimeClassName"], d["spec"]["version"],
             std::to_string(api::parse_deployment_view(d).status.ready_replicas) + "/" +
                 std::to_string(d["spec"]["replicas"].get<int>()),
             std::to_string(d["spec"]["resources"]["devices"].get<int>())});
    return t.print(std::cout);
  }
  if (resource == "routes") {
    Table t({"NAME", "PREFIX", "MODEL", "BACKENDS"});
    for (const auto& item : items) {
      auto r = api::parse_route(item);
      std::string backends = !r.size_routing ? r.backend
                                             : r.size_routing->small + " (<" +
                                                   std::to_string(r.size_routing->threshold_tokens) +
                                                   " tokens), " + r.size_routing->large;
      t.add({r.name(), r.path_prefix, r.model.empty() ? "*" : r.model, backends});
    }
    return t.print(std::cout);
  }
  Table t({"NAME", "HANDLER"});
  for (const auto& rc : items) t.add({rc["metadata"]["name"], rc["handler"]});
  t.print(std::cout);
}

}  // namespace

int apply(const Context& ctx, const std::vector<std::string>& files) {
  if (files.empty()) throw UsageError("apply needs -f FILE|DIR|-");
  try {
    for (const auto& path : files) {
      for (const auto& [source, text] : manifest_inputs(path)) {
        auto result = call(ctx, bhttp::verb::post, api_target({"apply"}, {{"source", source}}),
                           text, "application/yaml");
        for (const auto& r : result["results"])
          std::cout << lower(r["kind"].get<std::string>()) << "/" << r["name"].get<std::string>()
                    << " " << r["result"].get<std::string>() << "\n";
      }
    }
  } catch (const ApiFailure& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int get(const Context& ctx, const std::string& resource, const std::string& name) {
  auto path = resource_path(resource);
  if (path == "events" && !name.empty()) throw UsageError("get events takes no name");
  try {
    auto result =
        call(ctx, bhttp::verb::get, name.empty() ? api_target({path}) : api_target({path, name}));
    if (ctx.output == "json") {
      std::cout << result.dump(2) << "\n";
      return 0;
    }
    if (ctx.output == "yaml") {
      YAML::Emitter out;
      out << to_yaml(result);
      std::cout << out.c_str() << "\n";
      return 0;
    }
    json items = name.empty() ? result["items"] : json::array({result});
    if (path == "engines")
      print_engines(items, ctx.output == "wide");
    else if (path == "devices")
      print_devices(items, ctx.output == "wide");
    else if (path == "events")
      print_events(items, ctx.output == "wide");
    else
      print_manifests(path, items);
  } catch (const ApiFailure& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int remove(const Context& ctx, const std::string& resource, const std::string& name) {
  if (name.empty()) throw UsageError("delete needs a name");
  auto path = resource_path(resource);
  try {
    auto result = call(ctx, bhttp::verb::delete_, api_target({path, name}));
    std::cout << lower(result["kind"].get<std::string>()) << "/" << name << " deleted\n";
  } catch (const ApiFailure& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int remove_files(const Context& ctx, const std::vector<std::string>& files) {
  // Users before what they use: a Route before its deployments, those before their class.
  const std::vector<std::pair<std::string, std::string>> order = {
      {"Route", "routes"}, {"EngineDeployment", "deployments"}, {"RuntimeClass", "runtimeclasses"}};
  std::map<std::string, std::vector<std::string>> names;  // kind → names, in file order
  try {
    for (const auto& path : files)
      for (const auto& [source, text] : manifest_inputs(path))
        for (const auto& doc : YAML::LoadAll(text))
          if (doc.IsMap() && doc["kind"] && doc["metadata"] && doc["metadata"]["name"])
            names[doc["kind"].as<std::string>()].push_back(doc["metadata"]["name"].as<std::string>());
  } catch (const std::exception& e) {  // ApiFailure (unreadable file) or YAML::Exception
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  int failures = 0;
  for (const auto& [kind, path] : order) {
    for (const auto& name : names[kind]) {
      try {
        call(ctx, bhttp::verb::delete_, api_target({path, name}));
        std::cout << lower(kind) << "/" << name << " deleted\n";
      } catch (const ApiFailure& e) {
        std::cerr << "error: " << e.what() << "\n";
        ++failures;
      }
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace duet::ctl
