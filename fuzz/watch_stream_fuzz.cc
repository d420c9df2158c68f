// duetd's watch stream as duet-router reads it (NDJSON, docs/node-api.md): the line
// splitting and event handling of router/source_watcher.cc (on_data, on_line,
// judge_offered, mirrored here without the connection), router/watch_state.cc (apply),
// router/state_guard.cc (refusal), then the routing table built from the result
// (router/routing_table.cc) as the admin page shows it. The input is the stream's bytes.
// Checks: no exception leaves a line's handling (it would end the router's control
// thread); the lines handled do not depend on how TCP splits the stream; every object kept
// has the fields the router relies on.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "duet/common/line_splitter.h"
#include "duet/common/log.h"
#include "fuzz_check.h"
#include "http_checks.h"
#include "router/routing_table.h"
#include "router/state_guard.h"
#include "router/watch_state.h"

namespace {

using namespace duet::router;
using nlohmann::json;

// SourceWatcher's reading, from the 200 header on.
class WatchReader {
 public:
  void on_data(std::string_view piece) {
    if (!connected_) return;
    for (const auto& line : splitter_.feed(piece)) {
      if (!connected_) return;  // abandoned by an earlier line of this piece
      if (!line.empty()) on_line(line);
    }
  }

  const SourceState& state() const { return state_; }
  std::string outcome() const {
    return "connected=" + std::to_string(connected_) + " abandoned=" + abandoned_ +
           " stale=" + stale_ + " offered=" + std::to_string(offered_.has_value()) +
           " rv=" + std::to_string(state_.resource_version()) + " epoch=" + state_.state_epoch();
  }

 private:
  void on_line(const std::string& line) {
    auto event = json::parse(line, nullptr, false);
    if (event.is_discarded() || !event.is_object()) return abandon("not JSON");
    bool snapshot = false;
    try {
      snapshot = event.value("type", "") == "SNAPSHOT";
      if (!snapshot && !fresh_snapshot_) return;
      if (snapshot) offered_.emplace();
      SourceState& target = offered_ ? *offered_ : state_;
      target.apply(event);
    } catch (const std::exception& e) {
      return abandon(e.what());
    }
    if (snapshot) fresh_snapshot_ = true;
    if (offered_) judge_offered();
  }

  void judge_offered() {
    if (auto refused = refusal(state_, *offered_)) {
      stale_ = std::move(*refused);
      return;
    }
    state_ = std::move(*offered_);
    offered_.reset();
    stale_.clear();
  }

  void abandon(std::string why) {
    abandoned_ = std::move(why);
    connected_ = false;
  }

  duet::LineSplitter splitter_;
  SourceState state_;
  std::optional<SourceState> offered_;
  bool fresh_snapshot_ = false;
  bool connected_ = true;
  std::string abandoned_;
  std::string stale_;
};

void check_objects(const SourceState& state) {
  for (const auto& [name, route] : state.routes()) {
    DUET_FUZZ_CHECK(!name.empty() && name == route.name(), name);
    DUET_FUZZ_CHECK(route.size_routing.has_value() == route.backend.empty(), name);
    DUET_FUZZ_CHECK(route.retry_attempts >= 1 && route.retry_attempts <= duet::api::kMaxRetryAttempts, name);
    DUET_FUZZ_CHECK(route.first_byte_timeout.count() >= 1 && route.idle_timeout.count() >= 1, name);
  }
  for (const auto& [name, d] : state.deployments())
    DUET_FUZZ_CHECK(!name.empty() && d.canary_weight <= 100, name);
  for (const auto& [name, e] : state.engines()) DUET_FUZZ_CHECK(!name.empty(), name);
}

// The lines the stream's reads, cut at `cuts`, hand to on_line, then what is left pending.
std::vector<std::string> lines_of(std::string_view bytes, const std::vector<std::size_t>& cuts) {
  duet::LineSplitter splitter;
  std::vector<std::string> lines;
  for (std::string_view piece : duet::fuzz::cut(bytes, cuts))
    for (auto& line : splitter.feed(piece)) lines.push_back(std::move(line));
  lines.emplace_back(splitter.pending());
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool quiet = (duet::Logger::set_min_level(duet::LogLevel::error), true);
  (void)quiet;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  WatchReader reader;
  reader.on_data(bytes);
  check_objects(reader.state());
  EndpointLoads loads;
  RoutingTable::build({&reader.state()}, loads)->to_json().dump();
  // What follows the splitter is a function of the lines it hands on (on_data stops at the
  // line that abandons the stream, whichever read it came in), so splits are compared there:
  // reading the whole stream twice doubled the target's cost.
  auto cuts = duet::fuzz::cut_points(duet::fuzz::input_hash(bytes), size);
  DUET_FUZZ_CHECK(lines_of(bytes, {}) == lines_of(bytes, cuts), reader.outcome());
  return 0;
}
