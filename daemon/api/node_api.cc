#include "daemon/api/node_api.h"

#include <charconv>
#include <map>
#include <optional>

#include "daemon/api/log_follower.h"
#include "daemon/api/percent_encoding.h"
#include "daemon/manifest/parser.h"
#include "daemon/rollout/traffic.h"
#include "daemon/ui/ui_files.h"
#include "duet/api/watch_event.h"
#include "duet/common/http_error.h"
#include "duet/common/json_text.h"
#include "duet/common/utf8.h"

namespace duet::daemon {

using nlohmann::json;
namespace bhttp = http::bhttp;

namespace {

constexpr std::string_view kPrefix = "/apis/v1/";

// API resource names → stored kinds.
const std::map<std::string, std::string>& kinds() {
  static const std::map<std::string, std::string> k = {{"runtimeclasses", "RuntimeClass"},
                                                       {"deployments", "EngineDeployment"},
                                                       {"routes", "Route"}};
  return k;
}

std::string query_param(const std::string& query, const std::string& key) {
  std::size_t pos = 0;
  while (pos < query.size()) {
    auto amp = query.find('&', pos);
    auto part = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (part.starts_with(key + "=")) {
      auto value = percent_decode(part.substr(key.size() + 1));
      if (!value) throw HttpError(400, key + ": bad percent-encoding", key);
      return *value;
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return {};
}

// `?key=N`: nullopt when absent; a 400 naming the key when it is not a number.
std::optional<uint64_t> number_param(const std::string& query, const std::string& key) {
  auto text = query_param(query, key);
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    throw HttpError(400, key + " must be a number, got \"" + text + "\"", key);
  return value;
}

void reply_json(const std::shared_ptr<http::Exchange>& exchange, const json& body,
                bhttp::status status = bhttp::status::ok) {
  exchange->reply(status, json_text(body) + "\n");
}

}  // namespace

void NodeApi::handle(const std::shared_ptr<http::Exchange>& exchange) {
  const auto& req = exchange->request();
  std::string target(req.target());
  auto q = target.find('?');
  // Names and file names arrive percent-encoded (duetctl encodes every segment); none holds
  // a '/', so decoding the whole path splits it the same.
  auto decoded = percent_decode(target.substr(0, q));
  if (!decoded) throw HttpError(400, "bad percent-encoding in the path");
  std::string path = std::move(*decoded);
  std::string query = q == std::string::npos ? "" : target.substr(q + 1);
  auto method = req.method();

  if (path == "/healthz" || path == "/readyz")
    return exchange->reply(bhttp::status::ok, "ok\n", "text/plain");
  if (ui::is_ui_path(path)) return ui::serve_ui_file(exchange, path);
  if (path == "/metrics")
    return exchange->reply(bhttp::status::ok, metrics_.render(), "text/plain; version=0.0.4");
  if (!path.starts_with(kPrefix)) throw HttpError(404, "no such API path: " + path);

  std::string rest = path.substr(kPrefix.size());
  auto slash = rest.find('/');
  std::string resource = rest.substr(0, slash);
  std::string name = slash == std::string::npos ? "" : rest.substr(slash + 1);

  if (resource == "apply" && name.empty()) {
    if (method != bhttp::verb::post) throw HttpError(405, "apply takes POST");
    return audited(exchange, "apply", json::array(), [&] { return apply(exchange, query); });
  }
  if (resource == "events" && name.empty()) {
    if (method != bhttp::verb::get) throw HttpError(405, "events takes GET");
    return reply_json(exchange, {{"items", audit_.list()}});
  }
  if (resource == "watch" && name.empty()) {
    if (method != bhttp::verb::get) throw HttpError(405, "watch takes GET");
    return hub_.subscribe(exchange, number_param(query, api::kResumeVersionParam),
                          query_param(query, api::kResumeEpochParam));
  }
  if (resource == "node") return node(exchange, name);
  if (resource == "traffic" && name.empty()) {
    if (method == bhttp::verb::get)
      return traffic_history_.serve(exchange, query_param(query, "watch") == "true");
    if (method != bhttp::verb::post) throw HttpError(405, "traffic takes POST or GET");
    return traffic(exchange);
  }
  if (resource == "deployments" && method == bhttp::verb::post) {
    auto at = name.find("/rollout/");
    std::string action = at == std::string::npos ? "" : name.substr(at + 9);
    auto deployment = name.substr(0, name.find('/'));
    return audited(exchange, "rollout " + action,
                   json::array({{{"kind", "EngineDeployment"}, {"name", deployment}}}),
                   [&] { return rollout_action(exchange, name); });
  }
  if (method == bhttp::verb::get) return read(exchange, resource, name, query);
  if (method == bhttp::verb::delete_) {
    auto kind = kinds().find(resource);
    json named = json::array();
    if (kind != kinds().end()) named.push_back({{"kind", kind->second}, {"name", name}});
    return audited(exchange, "delete", std::move(named),
                   [&] { return remove(exchange, resource, name); });
  }
  throw HttpError(405, "method " + std::string(req.method_string()) + " not allowed on " + path);
}

json NodeApi::node_json() const {
  int running = 0, draining = 0;
  for (const auto& engine : reconciler_.engines()) {
    if (engine.pid != 0) ++running;
    if (engine.state == api::EngineState::draining) ++draining;
  }
  return {{"unschedulable", reconciler_.cordoned()}, {"runningReplicas", running},
          {"drainingReplicas", draining}};
}

void NodeApi::node(const std::shared_ptr<http::Exchange>& exchange, const std::string& action) {
  auto method = exchange->request().method();
  if (action.empty()) {
    if (method != bhttp::verb::get) throw HttpError(405, "node takes GET; node/cordon, node/uncordon and node/drain take POST");
    return reply_json(exchange, node_json());
  }
  if (action != "cordon" && action != "uncordon" && action != "drain")
    throw HttpError(404, "no node action \"" + action + "\": expected cordon, uncordon or drain");
  if (method != bhttp::verb::post) throw HttpError(405, "node/" + action + " takes POST");
  audited(exchange, "node " + action, json::array(), [&] {
    if (action == "drain")
      reconciler_.drain_all();
    else
      reconciler_.cordon(action == "cordon");
    if (persist_) persist_();
    auto body = node_json();
    reply_json(exchange, body);
    return json::array({{{"kind", "Node"}, {"unschedulable", body["unschedulable"]}}});
  });
}

template <class Mutation>
void NodeApi::audited(const std::shared_ptr<http::Exchange>& exchange, const std::string& action,
                      json named, Mutation&& mutation) {
  try {
    json changed = mutation();
    audit_.record(exchange->caller(), action, std::move(changed), 200, "");
  } catch (const HttpError& e) {
    audit_.record(exchange->caller(), action, std::move(named), e.status(), e.what());
    throw;
  } catch (const std::exception&) {
    audit_.record(exchange->caller(), action, std::move(named), 500, "internal error");
    throw;
  }
}

json NodeApi::stored_ref(const std::string& kind, const std::string& name) const {
  json ref = {{"kind", kind}, {"name", name}};
  const auto& objects = store_.objects(kind);
  if (auto it = objects.find(name); it != objects.end()) {
    ref["resourceVersion"] = it->second.resource_version;
    ref["generation"] = it->second.generation;
  }
  return ref;
}

json NodeApi::apply(const std::shared_ptr<http::Exchange>& exchange, const std::string& query) {
  auto source = query_param(query, "source");
  if (source.empty()) source = "request";
  std::vector<ApplyOutcome> outcomes;
  // What is stored is written to the checkpoint and the watch stream as JSON: UTF-8 only.
  if (auto at = first_invalid_utf8(source))
    throw HttpError(400, "source: not valid UTF-8 at byte " + std::to_string(*at), "source");
  if (auto at = first_invalid_utf8(exchange->request().body()))
    throw HttpError(400, source + ": not valid UTF-8 at byte " + std::to_string(*at));
  try {
    outcomes = store_.apply(manifest::parse_manifests(exchange->request().body(), source), source);
  } catch (const manifest::ApplyError& e) {
    throw HttpError(400, e.what(), e.where());
  } catch (const std::system_error& e) {
    throw HttpError(500, std::string("nothing applied: cannot write the checkpoint: ") + e.what());
  }
  json results = json::array(), changed = json::array();
  for (const auto& o : outcomes) {
    if (o.kind == "EngineDeployment" && o.result == "created") events_.forget(o.name);
    results.push_back({{"kind", o.kind}, {"name", o.name}, {"result", o.result}});
    changed.push_back(stored_ref(o.kind, o.name));
    changed.back()["result"] = o.result;
  }
  reply_json(exchange, {{"results", results}});
  return changed;
}

void NodeApi::read(const std::shared_ptr<http::Exchange>& exchange, const std::string& resource,
                   const std::string& name, const std::string& query) {
  if (name.find('/') != std::string::npos) return read_subresource(exchange, resource, name, query);
  if (resource == "engines") {
    if (name.empty()) {
      json items = json::array();
      for (const auto& engine : reconciler_.engines()) items.push_back(api::to_json(engine));
      return reply_json(exchange, {{"items", items}});
    }
    auto engine = reconciler_.engine(name);
    if (!engine) throw HttpError(404, "engine \"" + name + "\" not found");
    return reply_json(exchange, api::to_json(*engine));
  }
  if (resource == "devices") return read_devices(exchange, name);
  auto kind = kinds().find(resource);
  if (kind == kinds().end()) throw HttpError(404, "no such resource: " + resource);
  if (name.empty()) return reply_json(exchange, {{"items", store_.list_json(kind->second)}});
  const auto& objects = store_.objects(kind->second);
  auto it = objects.find(name);
  if (it == objects.end()) throw HttpError(404, kind->second + " \"" + name + "\" not found");
  reply_json(exchange, store_.to_json(it->second));
}

void NodeApi::read_subresource(const std::shared_ptr<http::Exchange>& exchange,
                               const std::string& resource, const std::string& path,
                               const std::string& query) {
  auto slash = path.find('/');
  auto name = path.substr(0, slash);
  auto sub = path.substr(slash + 1);
  if (resource == "deployments" && sub == "events") {
    if (!store_.objects("EngineDeployment").count(name))
      throw HttpError(404, "EngineDeployment \"" + name + "\" not found");
    return reply_json(exchange, {{"items", events_.list(name)}});
  }
  if (resource == "engines" && sub == "logs" && !name.empty() && name.find("..") == std::string::npos) {
    return LogFollower::serve(exchange, reconciler_.log_path(name),
                              query_param(query, "follow") == "true", number_param(query, "tailLines"));
  }
  throw HttpError(404, "no such API path: /apis/v1/" + resource + "/" + path);
}

void NodeApi::read_devices(const std::shared_ptr<http::Exchange>& exchange,
                           const std::string& id) {
  auto items = devices_.devices_json();
  if (id.empty()) return reply_json(exchange, {{"items", items}});
  for (const auto& d : items)
    if (d["id"] == id) return reply_json(exchange, d);
  throw HttpError(404, "device \"" + id + "\" not found");
}

json NodeApi::remove(const std::shared_ptr<http::Exchange>& exchange,
                     const std::string& resource, const std::string& name) {
  auto kind = kinds().find(resource);
  if (kind == kinds().end() || name.empty())
    throw HttpError(405, "DELETE takes /apis/v1/{runtimeclasses,deployments,routes}/NAME");
  json ref = stored_ref(kind->second, name);
  store_.remove(kind->second, name);
  ref["result"] = "deleted";
  reply_json(exchange, {{"kind", kind->second}, {"name", name}, {"result", "deleted"}});
  return json::array({ref});
}

json NodeApi::rollout_action(const std::shared_ptr<http::Exchange>& exchange,
                             const std::string& path) {
  auto slash = path.find("/rollout/");
  if (slash == std::string::npos)
    throw HttpError(404, "POST takes /apis/v1/deployments/NAME/rollout/{promote,abort,retry}");
  auto name = path.substr(0, slash);
  auto action = path.substr(slash + 9);
  const auto& deployments = store_.objects("EngineDeployment");
  auto it = deployments.find(name);
  if (it == deployments.end()) throw HttpError(404, "EngineDeployment \"" + name + "\" not found");
  const auto& deployment = std::get<manifest::EngineDeployment>(it->second.object);
  std::string result;
  if (action == "promote") {
    rollouts_.promote(deployment);
    result = "promoted";
  } else if (action == "abort") {
    rollouts_.abort(deployment);
    result = "aborted";
  } else if (action == "retry") {
    rollouts_.retry(deployment);
    result = "retried";
  } else {
    throw HttpError(404, "no rollout action \"" + action + "\" (promote, abort, retry)");
  }
  reply_json(exchange, {{"kind", "EngineDeployment"}, {"name", name}, {"result", result}});
  json ref = stored_ref("EngineDeployment", name);
  ref["result"] = result;
  return json::array({ref});
}

void NodeApi::traffic(const std::shared_ptr<http::Exchange>& exchange) {
  auto body = json::parse(exchange->request().body(), nullptr, false);
  if (body.is_discarded()) throw HttpError(400, "body: expected JSON");
  auto report = parse_traffic_report(body);
  rollouts_.add_traffic(report.items);
  traffic_history_.add(report.items);
  drains_.report(report.router, report.seen_version, std::move(report.in_flight),
                 DrainTracker::Clock::now());
  reply_json(exchange, {{"accepted", report.items.size()}});
}

}  // namespace duet::daemon
