#include "daemon/ctl/commands.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "daemon/ctl/table.h"
#include "deviceplugin/device_report.h"
#include "duet/common/http_client.h"

namespace duet::ctl {

using nlohmann::json;
namespace fs = std::filesystem;
namespace bhttp = http::bhttp;

namespace {

constexpr std::chrono::seconds kTimeout{30};

// Sends a request to duetd; returns the JSON body, or prints the API's error and throws.
struct ApiFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

json call(const Context& ctx, bhttp::verb method, const std::string& target, std::string body = {},
          std::string_view content_type = {}) {
  http::ClientResponse res;
  try {
    res = http::fetch_sync(ctx.server,
                           http::make_request(method, target, ctx.server, std::move(body), content_type),
                           kTimeout);
  } catch (const std::system_error& e) {
    throw ApiFailure("cannot reach duetd at " + ctx.server.to_string() + ": " + e.code().message());
  }
  auto parsed = json::parse(res.body(), nullptr, false);
  if (res.result_int() >= 400) {
    if (parsed.is_object() && parsed.contains("error"))
      throw ApiFailure(parsed["error"].value("message", res.body()));
    throw ApiFailure("duetd answered " + std::to_string(res.result_int()) + ": " + res.body());
  }
  if (parsed.is_discarded()) throw ApiFailure("duetd sent a body that is not JSON");
  return parsed;
}

std::string read_all(std::istream& in) {
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// FILE, DIR (its *.yaml, *.yml and *.json, sorted) or - (stdin), as (source name, text).
std::vector<std::pair<std::string, std::string>> manifest_inputs(const std::string& path) {
  if (path == "-") return {{"stdin", read_all(std::cin)}};
  std::vector<fs::path> files;
  if (fs::is_directory(path)) {
    for (const auto& e : fs::directory_iterator(path)) {
      auto ext = e.path().extension();
      if (ext == ".yaml" || ext == ".yml" || ext == ".json") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : files) {
    std::ifstream in(f);
    if (!in) throw ApiFailure("cannot read " + f.string());
    out.emplace_back(f.filename().string(), read_all(in));
  }
  return out;
}

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
  throw UsageError("unknown resource type \"" + resource +
                   "\" (engines, deployments, routes, runtimeclasses, devices)");
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
  for (const auto& e : items) {
    std::vector<std::string> row = {e["name"], e["deployment"], e["version"]};
    if (wide) row.push_back(e["track"]);
    row.insert(row.end(), {e["state"].get<std::string>(), std::to_string(e["restarts"].get<int>()),
                           e["endpoint"].get<std::string>()});
    if (wide) row.insert(row.end(), {std::to_string(e["pid"].get<int>()), e["message"]});
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

void print_manifests(const std::string& resource, const json& items) {
  if (resource == "deployments") {
    Table t({"NAME", "RUNTIMECLASS", "VERSION", "READY", "DEVICES"});
    for (const auto& d : items)
      t.add({d["metadata"]["name"], d["spec"]["runtimeClassName"], d["spec"]["version"],
             std::to_string(d["status"].value("readyReplicas", 0)) + "/" +
                 std::to_string(d["spec"]["replicas"].get<int>()),
             std::to_string(d["spec"]["resources"]["devices"].get<int>())});
    return t.print(std::cout);
  }
  if (resource == "routes") {
    Table t({"NAME", "PREFIX", "MODEL", "BACKENDS"});
    for (const auto& r : items) {
      const auto& spec = r["spec"];
      std::string backends = spec.contains("backend")
                                 ? spec["backend"].get<std::string>()
                                 : spec["sizeRouting"]["small"].get<std::string>() + " (<" +
                                       std::to_string(spec["sizeRouting"]["thresholdTokens"].get<int64_t>()) +
                                       " tokens), " + spec["sizeRouting"]["large"].get<std::string>();
      t.add({r["metadata"]["name"], spec["match"]["pathPrefix"],
             spec["match"].value("model", "*"), backends});
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
        auto result = call(ctx, bhttp::verb::post, "/apis/v1/apply?source=" + source, text,
                           "application/yaml");
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
  try {
    auto result = call(ctx, bhttp::verb::get, "/apis/v1/" + path + (name.empty() ? "" : "/" + name));
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
    call(ctx, bhttp::verb::delete_, "/apis/v1/" + path + "/" + name);
    std::cout << path << "/" << name << " deleted\n";
  } catch (const ApiFailure& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace duet::ctl
