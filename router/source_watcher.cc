#include "router/source_watcher.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "router/credentials.h"
#include "router/router_logger.h"
#include "router/state_guard.h"

namespace duet::router {

namespace asio = boost::asio;

namespace {

// The token is read for every request, so a rotated file is picked up without a restart.
std::string read_token(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read tokenFile " + path);
  std::stringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  return token;
}

}  // namespace

duet::http::ClientRequest source_request(const SourceConfig& source, duet::http::bhttp::verb method,
                                         std::string_view target, std::string body) {
  auto request =
      duet::http::make_request(method, target, source.address, std::move(body),
                               method == duet::http::bhttp::verb::post ? "application/json" : "");
  if (!source.token_file.empty())
    request.set(duet::http::bhttp::field::authorization, "Bearer " + read_token(source.token_file));
  return request;
}

SourceWatcher::SourceWatcher(asio::io_context& io, SourceConfig source,
                             std::function<void()> on_change, WatchTiming timing)
    : io_(io),
      source_(std::move(source)),
      on_change_(std::move(on_change)),
      timing_(timing),
      retry_timer_(io),
      dead_timer_(io),
      backoff_(timing.backoff_min) {}

void SourceWatcher::start() { connect(); }

void SourceWatcher::stop() {
  stopped_ = true;
  retry_timer_.cancel();
  dead_timer_.cancel();
  if (call_) call_->cancel();
}

nlohmann::json SourceWatcher::status() const {
  nlohmann::json out = {
      {"source", source_.name},
      {"connected", connected_},
      {"synced", state_.synced()},
      {"resourceVersion", state_.resource_version()},
      {"stateEpoch", state_.state_epoch()},
      {"stale", !stale_.empty()},
      // Disconnected after a snapshot, or its new state refused: routing goes on with
      // that source's last state.
      {"servingLastKnownState", state_.synced() && (!connected_ || !stale_.empty())},
      {"snapshots", snapshots_},
      {"resumes", resumes_},
      {"error", error_}};
  if (!stale_.empty()) out["reason"] = stale_;
  return out;
}

namespace {
// An epoch goes into the request line: only the hex digits duetd makes are taken.
bool plain_epoch(const std::string& epoch) {
  return !epoch.empty() && epoch.size() <= 64 &&
         std::all_of(epoch.begin(), epoch.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}
}  // namespace

// With a state in use, the watch resumes after its resourceVersion in its epoch: duetd sends
// only what was missed (a BOOKMARK first), or a SNAPSHOT when it no longer can.
duet::http::ClientRequest SourceWatcher::make_watch_request() const {
  std::string target = resume_from_ ? api::resume_target(*resume_from_, state_.state_epoch()) : api::kWatchPath;
  return source_request(source_, duet::http::bhttp::verb::get, target);
}

bool SourceWatcher::resumes_here(const api::WatchEvent& first_event) const {
  return first_event.type == api::WatchEventType::bookmark && first_event.resource_version == *resume_from_ &&
         first_event.state_epoch == state_.state_epoch();
}

void SourceWatcher::connect() {
  if (stopped_) return;
  connected_ = false;
  fresh_snapshot_ = false;
  offered_.reset();  // the new connection starts with its own snapshot
  splitter_ = LineSplitter();
  end_reason_.clear();
  resume_from_.reset();
  if (state_.synced() && !offered_ && stale_.empty() && !relist_ && plain_epoch(state_.state_epoch()))
    resume_from_ = state_.resource_version();
  relist_ = false;
  duet::http::ClientRequest request;
  duet::http::TlsContext tls;
  try {
    request = make_watch_request();
    tls = source_tls(source_);
  } catch (const std::exception& e) {
    end_reason_ = e.what();
    return on_end(asio::error::access_denied);
  }
  std::weak_ptr<SourceWatcher> weak = weak_from_this();
  duet::http::StreamHandlers handlers;
  handlers.on_header = [weak](const duet::http::ClientResponseHeader& h) {
    if (auto self = weak.lock()) self->on_header(h);
  };
  handlers.on_data = [weak](std::string_view piece) {
    if (auto self = weak.lock()) self->on_data(piece);
  };
  handlers.on_end = [weak](duet::http::error_code ec) {
    if (auto self = weak.lock()) self->on_end(ec);
  };
  call_ =
      duet::http::ClientCall::stream(io_.get_executor(), source_.address, std::move(request),
                                     timing_.header_timeout, std::move(handlers), std::move(tls));
}

void SourceWatcher::on_header(const duet::http::ClientResponseHeader& header) {
  if (header.result() != duet::http::bhttp::status::ok)
    return abandon("watch answered HTTP " + std::to_string(header.result_int()));
  connected_ = true;
  router_logger().info("source_connected", {{"source", source_.name}});
  arm_dead_timer();
}

void SourceWatcher::on_data(std::string_view piece) {
  if (!connected_) return;
  arm_dead_timer();
  for (const auto& line : splitter_.feed(piece)) {
    if (!connected_) return;  // abandoned by an earlier line of this piece
    if (!line.empty()) on_line(line);
  }
  if (connected_ && splitter_.pending().size() > timing_.max_line_bytes)
    abandon("watch sent a line longer than " + std::to_string(timing_.max_line_bytes) + " bytes", true);
}

void SourceWatcher::on_line(const std::string& line) {
  auto event = nlohmann::json::parse(line, nullptr, false);
  if (event.is_discarded() || !event.is_object())
    return abandon("watch sent a line that is not JSON", true);
  // Every read of the line's fields is in the try: a field of the wrong type ({"type":1})
  // is a bad line that drops this connection, not an exception on the control thread.
  bool snapshot = false;
  ApplyResult result;
  try {
    auto header = api::read_watch_event(event);
    snapshot = header.type == api::WatchEventType::snapshot;
    if (resume_from_) {  // the connection's first line says whether it resumed
      if (resumes_here(header)) {
        fresh_snapshot_ = true;
        ++resumes_;
        backoff_ = timing_.backoff_min;
        error_.clear();
        router_logger().info("source_resumed", {{"source", source_.name},
                                                {"resource_version", *resume_from_}});
      }
      resume_from_.reset();
    }
    // Until this connection's snapshot arrives, the last known state stays as it is.
    if (!snapshot && !fresh_snapshot_) return;
    // A snapshot is built aside and judged before it replaces the state in use; while it is
    // refused, the changes after it apply to it, aside too.
    if (snapshot) {
      offered_.emplace();
      ++snapshots_;
    }
    SourceState& target = offered_ ? *offered_ : state_;
    result = target.apply(event, std::move(header));
  } catch (const std::exception& e) {
    return abandon(std::string("bad watch event: ") + e.what(), true);
  }
  for (const auto& why : result.skipped)
    router_logger().warn("watch_object_skipped", {{"source", source_.name}, {"error", why}});
  if (snapshot) {
    fresh_snapshot_ = true;
    backoff_ = timing_.backoff_min;
    error_.clear();
  }
  if (offered_) return judge_offered(snapshot);
  if (result.changed) on_change_();
}

void SourceWatcher::judge_offered(bool snapshot) {
  if (auto refused = refusal(state_, *offered_)) {
    if (snapshot || stale_.empty())
      router_logger().warn("snapshot_refused", {{"source", source_.name}, {"reason", *refused}});
    stale_ = std::move(*refused);
    return;
  }
  state_ = std::move(*offered_);
  offered_.reset();
  stale_.clear();
  router_logger().info("source_synced", {{"source", source_.name},
                                         {"state_epoch", state_.state_epoch()},
                                         {"resource_version", state_.resource_version()},
                                         {"routes", state_.routes().size()},
                                         {"engines", state_.engines().size()}});
  on_change_();
}

void SourceWatcher::abandon(std::string reason, bool relist) {
  // Resuming after a line that could not be applied would only get that line again.
  relist_ = relist_ || relist;
  end_reason_ = std::move(reason);
  connected_ = false;
  if (call_) call_->cancel();  // on_end follows and schedules the reconnect
}

void SourceWatcher::on_end(duet::http::error_code ec) {
  connected_ = false;
  dead_timer_.cancel();
  call_.reset();
  if (stopped_) return;
  error_ = !end_reason_.empty() ? end_reason_ : ec ? ec.message() : "watch stream ended";
  router_logger().warn("source_disconnected", {{"source", source_.name},
                                               {"error", error_},
                                               {"retry_ms", backoff_.count()},
                                               {"keeping_state", state_.synced()}});
  retry_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, timing_.backoff_max);
  retry_timer_.async_wait([weak = weak_from_this()](duet::http::error_code e) {
    if (auto self = weak.lock(); self && !e) self->connect();
  });
}

void SourceWatcher::arm_dead_timer() {
  dead_timer_.expires_after(timing_.dead_after);
  dead_timer_.async_wait([weak = weak_from_this()](duet::http::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock())
      self->abandon("no line for " + std::to_string(self->timing_.dead_after.count()) + " ms");
  });
}

}  // namespace duet::router
