#include "daemon/rollout/traffic.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "duet/common/http_error.h"

namespace duet::daemon {

using nlohmann::json;

uint64_t TrafficCounts::error_total() const {
  uint64_t total = 0;
  for (const auto& [kind, count] : errors) total += count;
  return total;
}

double TrafficCounts::success_rate() const {
  if (requests == 0) return 1;
  auto failed = std::min(error_total(), requests);
  return static_cast<double>(requests - failed) / static_cast<double>(requests);
}

std::optional<double> TrafficCounts::quantile_ms(double q) const {
  uint64_t total = 0;
  for (auto c : buckets) total += c;
  if (total == 0) return std::nullopt;
  double rank = q * static_cast<double>(total);
  uint64_t below = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (static_cast<double>(below + buckets[i]) < rank) {
      below += buckets[i];
      continue;
    }
    if (i == bounds.size()) return bounds.empty() ? std::nullopt : std::optional(bounds.back() * 1000);
    double lower = i == 0 ? 0 : bounds[i - 1];
    double share = (rank - static_cast<double>(below)) / static_cast<double>(buckets[i]);
    return (lower + (bounds[i] - lower) * share) * 1000;
  }
  return bounds.back() * 1000;
}

void TrafficCounts::add(const TrafficCounts& other) {
  requests += other.requests;
  for (const auto& [kind, count] : other.errors) errors[kind] += count;
  if (other.buckets.empty()) return;
  if (buckets.empty()) {
    bounds = other.bounds;
    buckets.assign(other.buckets.size(), 0);
  }
  if (bounds != other.bounds) return;
  for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i] += other.buckets[i];
}

namespace {

bool is_count(const json& value) {
  return value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0);
}

uint64_t count_at(const json& object, const char* key, const std::string& path) {
  auto it = object.find(key);
  if (it == object.end()) return 0;
  if (!is_count(*it)) throw HttpError(400, path + key + ": expected a count", path + key);
  return it->get<uint64_t>();
}

std::string text_at(const json& object, const char* key, const std::string& path, bool required) {
  auto it = object.find(key);
  if (it == object.end() && !required) return {};
  if (it == object.end() || !it->is_string())
    throw HttpError(400, path + key + ": expected a string", path + key);
  return it->get<std::string>();
}

TrafficCounts read_counts(const json& item, const std::string& path) {
  TrafficCounts c;
  c.requests = count_at(item, "requests", path);
  if (auto errors = item.find("errors"); errors != item.end()) {
    if (!errors->is_object()) throw HttpError(400, path + "errors: expected an object", path + "errors");
    for (const auto& [kind, count] : errors->items())
      c.errors[kind] = count_at(*errors, kind.c_str(), path + "errors.");
  }
  auto histogram = item.find("firstByteSeconds");
  if (histogram == item.end()) return c;
  auto where = path + "firstByteSeconds";
  const auto& bounds = histogram->value("bounds", json::array());
  const auto& buckets = histogram->value("counts", json::array());
  if (!bounds.is_array() || !buckets.is_array() || buckets.size() != bounds.size() + 1)
    throw HttpError(400, where + ": expected bounds and one more count than bounds", where);
  for (const auto& b : bounds) {
    if (!b.is_number() || (!c.bounds.empty() && b.get<double>() <= c.bounds.back()))
      throw HttpError(400, where + ".bounds: expected rising numbers", where + ".bounds");
    c.bounds.push_back(b.get<double>());
  }
  for (const auto& n : buckets) {
    if (!is_count(n)) throw HttpError(400, where + ".counts: expected counts", where + ".counts");
    c.buckets.push_back(n.get<uint64_t>());
  }
  return c;
}

}  // namespace

std::vector<TrafficSample> parse_traffic_report(const json& body) {
  if (!body.is_object() || !body.contains("items") || !body["items"].is_array())
    throw HttpError(400, "items: expected an array of per-deployment counts", "items");
  std::vector<TrafficSample> samples;
  const auto& items = body["items"];
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto path = "items[" + std::to_string(i) + "].";
    const auto& item = items[i];
    if (!item.is_object()) throw HttpError(400, path + ": expected an object", path);
    TrafficSample s;
    s.deployment = text_at(item, "deployment", path, true);
    s.track = text_at(item, "track", path, true);
    if (s.track != "stable" && s.track != "canary")
      throw HttpError(400, path + "track: expected stable or canary, got \"" + s.track + "\"", path + "track");
    s.version = text_at(item, "version", path, false);
    s.counts = read_counts(item, path);
    samples.push_back(std::move(s));
  }
  return samples;
}

void TrafficLedger::add(const TrafficSample& sample) {
  if (sample.track == "canary") canary_[sample.deployment][sample.version].add(sample.counts);
}

TrafficCounts TrafficLedger::take(const std::string& deployment, const std::string& version) {
  TrafficCounts out;
  auto it = canary_.find(deployment);
  if (it == canary_.end()) return out;
  for (const auto& [sample_version, counts] : it->second)
    if (sample_version == version || sample_version.empty()) out.add(counts);
  canary_.erase(it);
  return out;
}

}  // namespace duet::daemon
