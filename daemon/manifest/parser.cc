#include "daemon/manifest/parser.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "duet/api/field_reader.h"
#include "duet/common/yaml_to_json.h"
#include "deviceplugin/registry.h"
#include "duet/common/json_parse_path.h"

namespace duet::manifest {

using nlohmann::json;
using api::describe;

namespace {

constexpr int kMaxReplicas = 1024;

using api::expect_api_version;
using api::read_metadata;

RuntimeClass decode_runtime_class(api::FieldReader& doc) {
  expect_api_version(doc, "node.k8s.io/v1");
  RuntimeClass rc;
  rc.metadata = read_metadata(doc);
  rc.handler = doc.string("handler");
  const auto& handlers = deviceplugin::Registry::handlers();
  if (std::find(handlers.begin(), handlers.end(), rc.handler) == handlers.end())
    throw api::FieldError("handler", "unknown handler \"" + rc.handler +
                                       "\" (expected ascend, nvidia, mlu or cpu)");
  doc.skip("overhead");
  doc.skip("scheduling");
  return rc;
}

HttpProbe read_probe(const json& node, const std::string& path) {
  api::FieldReader probe(node, path);
  HttpProbe p;
  api::FieldReader get(*probe.object("httpGet", true), probe.child_path("httpGet"));
  p.path = get.optional_string("path").value_or("/health");
  if (p.path.front() != '/') throw api::FieldError(get.child_path("path"), "must start with '/'");
  get.reject_unknown();
  p.period_seconds = static_cast<int>(probe.integer("periodSeconds", 2, 1, 3600));
  p.timeout_seconds = static_cast<int>(probe.integer("timeoutSeconds", 1, 1, 3600));
  p.failure_threshold = static_cast<int>(probe.integer("failureThreshold", 3, 1, 1000));
  p.initial_delay_seconds = static_cast<int>(probe.integer("initialDelaySeconds", 0, 0, 3600));
  probe.reject_unknown();
  return p;
}

EngineTemplate read_template(const json& node) {
  api::FieldReader t(node, "spec.template");
  EngineTemplate e;
  e.command = t.string_list("command", true);
  e.env = t.string_map("env");
  if (const auto* r = t.object("readinessProbe")) e.readiness = read_probe(*r, t.child_path("readinessProbe"));
  if (const auto* l = t.object("livenessProbe")) e.liveness = read_probe(*l, t.child_path("livenessProbe"));
  e.termination_grace_seconds =
      static_cast<int>(t.integer("terminationGracePeriodSeconds", 30, 0, 3600));
  t.reject_unknown();
  return e;
}

int64_t read_duration(api::FieldReader& r, const std::string& key, int64_t fallback) {
  auto text = r.optional_string(key);
  if (!text) return fallback;
  try {
    return parse_duration_seconds(*text);
  } catch (const std::invalid_argument& e) {
    throw api::FieldError(r.child_path(key), e.what());
  }
}

CanaryStep read_step(const json& node, const std::string& path) {
  api::FieldReader s(node, path);
  CanaryStep step;
  if (auto weight = s.optional_integer("setWeight", 0, 100)) step.set_weight = static_cast<int>(*weight);
  if (const auto* pause = s.object("pause")) {
    api::FieldReader p(*pause, s.child_path("pause"));
    step.pause_seconds = read_duration(p, "duration", -1);
    p.reject_unknown();
  }
  s.reject_unknown();
  if (step.set_weight.has_value() == step.pause_seconds.has_value())
    throw api::FieldError(path, "a step has exactly one of setWeight and pause");
  return step;
}

CanaryAnalysis read_analysis(const json& node, const std::string& path) {
  api::FieldReader a(node, path);
  CanaryAnalysis out;
  out.interval_seconds = read_duration(a, "interval", 10);
  if (out.interval_seconds < 1) throw api::FieldError(a.child_path("interval"), "must be at least 1s");
  out.failure_limit = static_cast<int>(a.integer("failureLimit", 2, 1, 1000));
  out.min_success_rate = a.number("minSuccessRate", 0.99, 0.0, 1.0);
  out.max_p99_latency_ms = a.integer("maxP99LatencyMs", 0, 0, 3'600'000);
  out.min_requests = a.integer("minRequests", 20, 0, 1'000'000'000);
  a.reject_unknown();
  return out;
}

Strategy read_strategy(const json* node) {
  Strategy s;
  if (!node) return s;
  api::FieldReader r(*node, "spec.strategy");
  s.type = r.choice("type", api::StrategyType::canary, api::parse_strategy_type,
                    "Canary or Recreate");
  if (const auto* canary = r.object("canary")) {
    api::FieldReader c(*canary, r.child_path("canary"));
    s.canary_replicas = static_cast<int>(c.integer("replicas", 1, 1, kMaxReplicas));
    s.capacity = c.choice("capacity", api::Capacity::surge, api::parse_capacity,
                          "surge or replace");
    if (const auto* steps = c.array("steps"))
      for (std::size_t i = 0; i < steps->size(); ++i)
        s.steps.push_back(read_step((*steps)[i], c.child_path("steps") + "[" + std::to_string(i) + "]"));
    if (const auto* a = c.object("analysis")) s.analysis = read_analysis(*a, c.child_path("analysis"));
    c.reject_unknown();
  }
  r.reject_unknown();
  return s;
}

// resources.limits: memory as a quantity of bytes ("64Gi", or a number), pids a count.
engine::ResourceLimits read_limits(const nlohmann::json& object) {
  api::FieldReader r(object, "spec.resources.limits");
  engine::ResourceLimits limits;
  if (r.has("memory")) {
    const auto& value = object.at("memory");
    r.skip("memory");
    try {
      if (value.is_number_integer() && value.get<int64_t>() >= 0) limits.memory_bytes = value.get<uint64_t>();
      else if (value.is_string()) limits.memory_bytes = engine::parse_byte_quantity(value.get<std::string>());
      else throw std::invalid_argument("expected a quantity like \"64Gi\", got " + describe(value));
    } catch (const std::invalid_argument& e) {
      throw api::FieldError(r.child_path("memory"), e.what());
    }
    // Below a few MiB no engine starts, and the kernel would OOM-kill it at once.
    if (*limits.memory_bytes < (4u << 20))
      throw api::FieldError(r.child_path("memory"), "must be at least 4Mi, got " + describe(value));
  }
  // `pids:` with no value (null) is unset, as for every field; it was stored as 0 before,
  // which no later read accepted (found by the manifest fuzz target).
  if (auto pids = r.optional_integer("pids", 1, 4194304)) limits.pids = static_cast<uint64_t>(*pids);
  r.reject_unknown();
  return limits;
}

EngineDeployment decode_deployment(api::FieldReader& doc) {
  expect_api_version(doc, api::kDuetApiVersion);
  EngineDeployment d;
  d.metadata = read_metadata(doc);
  // X-canary-0 is the first canary replica of X; a deployment of that name would clash.
  if (d.metadata.name.ends_with("-canary"))
    throw api::FieldError("metadata.name", "\"" + d.metadata.name +
                                             "\" ends in -canary, which names canary replicas");
  api::FieldReader spec(*doc.object("spec", true), "spec");
  d.runtime_class = spec.string("runtimeClassName");
  d.replicas = static_cast<int>(spec.integer("replicas", 1, 0, kMaxReplicas));
  d.version = spec.optional_string("version").value_or("v1");
  if (const auto* res = spec.object("resources")) {
    api::FieldReader r(*res, "spec.resources");
    d.devices = static_cast<int>(r.integer("devices", 0, 0, 64));
    if (const auto* limits = r.object("limits")) d.limits = read_limits(*limits);
    r.reject_unknown();
  }
  d.engine = read_template(*spec.object("template", true));
  d.strategy = read_strategy(spec.object("strategy"));
  spec.reject_unknown();
  return d;
}

// JSON nested past YAML's depth limit is refused as it is read: copying or walking it
// recurses once per level.
json parse_json(std::string_view text, const std::string& source, JsonParsePath& at) {
  const auto max_depth = static_cast<int>(YamlLimits{}.max_depth);
  return json::parse(text, [&](int depth, json::parse_event_t event, json& parsed) {
    bool opens =
        event == json::parse_event_t::object_start || event == json::parse_event_t::array_start;
    if (opens && depth >= max_depth)  // depth: the containers around this one
      throw ApplyError(source, "nested deeper than " + std::to_string(max_depth) + " levels");
    at.observe(event, parsed);
    return true;
  });
}

// `source[2] spec.replicas` for the path `[2].spec.replicas` of a list of documents; a
// single document is document 0.
std::string field_where(const std::string& source, const std::string& path) {
  if (path.starts_with("[")) {
    auto end = path.find(']');
    std::string rest = path.substr(end + 1);
    return source + path.substr(0, end + 1) + " " + (rest.starts_with(".") ? rest.substr(1) : rest);
  }
  return source + "[0] " + path;
}

bool is_list(const json& parsed) {
  auto kind = parsed.find("kind");
  return kind != parsed.end() && kind->is_string() && *kind == "List" && parsed.contains("items");
}

std::vector<json> json_documents(std::string_view text, const std::string& source) {
  JsonParsePath at;
  json parsed;
  try {
    parsed = parse_json(text, source, at);
  } catch (const json::parse_error& e) {
    throw ApplyError(source, std::string("invalid JSON: ") + e.what());
  } catch (const json::exception& e) {
    // Valid syntax nlohmann still refuses, like a number past double (1e309).
    throw ApplyError(field_where(source, at.path()), json_error_text(e));
  }
  if (parsed.is_array()) return parsed.get<std::vector<json>>();
  if (!parsed.is_object() || !is_list(parsed)) return {parsed};
  const json& items = parsed["items"];
  if (!items.is_array()) throw ApplyError(source + " items", "expected a list, got " + describe(items));
  return items.get<std::vector<json>>();
}

std::vector<json> split_documents(std::string_view text, const std::string& source) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (text[first] == '{' || text[first] == '['))
    return json_documents(text, source);
  try {
    return yaml_documents_to_json(text);
  } catch (const YAML::Exception& e) {
    // e.mark.line counts from 0; editors count from 1.
    throw ApplyError(source + ":" + std::to_string(e.mark.line + 1),
                     "invalid YAML: " + e.msg);
  } catch (const YamlLimitExceeded& e) {
    throw ApplyError(source + ":" + std::to_string(e.line()), e.what());
  }
}

}  // namespace

Object decode_object(const json& document) {
  api::FieldReader doc(document, "");
  auto kind = doc.string("kind");
  Object out;
  if (kind == "RuntimeClass")
    out = decode_runtime_class(doc);
  else if (kind == "EngineDeployment")
    out = decode_deployment(doc);
  else if (kind == "Route")
    out = api::read_route(doc);
  else
    throw api::FieldError("kind", "unknown kind \"" + kind +
                                    "\" (expected RuntimeClass, EngineDeployment or Route)");
  doc.skip("status");  // what `get -o yaml` printed may be applied again
  doc.reject_unknown();
  return out;
}

std::vector<ParsedObject> parse_manifests(std::string_view text, const std::string& source) {
  std::vector<ParsedObject> out;
  auto documents = split_documents(text, source);
  for (std::size_t i = 0; i < documents.size(); ++i) {
    if (documents[i].is_null()) continue;
    try {
      out.push_back({i, decode_object(documents[i])});
    } catch (const api::FieldError& e) {
      throw ApplyError(source + "[" + std::to_string(i) + "] " + e.path(), e.message());
    } catch (const json::exception& e) {
      // Every read is type-checked first; should one slip, it is still the document's fault.
      throw ApplyError(source + "[" + std::to_string(i) + "]", json_error_text(e));
    }
  }
  return out;
}

std::string kind_of(const Object& object) {
  return std::visit(
      [](const auto& o) -> std::string {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, RuntimeClass>) return "RuntimeClass";
        if constexpr (std::is_same_v<T, EngineDeployment>) return "EngineDeployment";
        return "Route";
      },
      object);
}

const std::string& name_of(const Object& object) {
  return std::visit([](const auto& o) -> const std::string& { return o.metadata.name; }, object);
}

json object_to_json(const Object& object) {
  return std::visit([](const auto& o) { return to_json(o); }, object);
}

int64_t parse_duration_seconds(const std::string& text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  int64_t unit_ms = unit == "ms"  ? 1
                    : unit == "s" ? 1000
                    : unit == "m" ? 60'000
                    : unit == "h" ? 3'600'000
                                  : 0;
  if ((ec != std::errc() && ec != std::errc::result_out_of_range) || end == text.data() || n < 0 ||
      unit_ms == 0)
    throw std::invalid_argument("\"" + text + "\" is not a duration (like 30s, 5m, 1h, 500ms)");
  // Compared before multiplying: "3000000h" in nanoseconds is past int64, and a wrapped
  // duration would end a pause at once.
  if (ec == std::errc::result_out_of_range || n > kMaxDurationSeconds * 1000 / unit_ms)
    throw std::invalid_argument("\"" + text + "\" is too long (max " +
                                std::to_string(kMaxDurationSeconds / 3600) + "h)");
  return (n * unit_ms + 999) / 1000;
}

}  // namespace duet::manifest
