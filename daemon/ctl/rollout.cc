// `duetctl rollout status NAME [--watch]` and `rollout promote|abort|retry NAME` (SPEC §6).
// --watch follows duetd's watch stream and prints a line whenever the rollout's summary
// changes, until it is Healthy (exit 0) or Degraded/Aborted (exit 1), as kubectl and the
// Argo Rollouts plugin do.
#include <boost/asio/io_context.hpp>
#include <ctime>
#include <iostream>

#include "daemon/ctl/api_call.h"
#include "daemon/ctl/commands.h"
#include "daemon/ctl/rollout_summary.h"
#include "duet/api/watch_event.h"
#include "duet/common/line_splitter.h"

namespace duet::ctl {

using nlohmann::json;
namespace bhttp = http::bhttp;

namespace {

bool finished(api::RolloutPhase phase) {
  return phase == api::RolloutPhase::healthy || phase == api::RolloutPhase::degraded ||
         phase == api::RolloutPhase::aborted;
}

int exit_code(api::RolloutPhase phase) {
  return phase == api::RolloutPhase::degraded || phase == api::RolloutPhase::aborted ? 1 : 0;
}

std::string clock_now() {
  auto now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char text[16];
  std::strftime(text, sizeof text, "%H:%M:%S", &tm);
  return text;
}

// Throws api::FieldError when duetd sent something else than a deployment.
std::optional<api::RolloutStatus> rollout_of(const json& deployment) {
  return api::parse_deployment_view(deployment).status.rollout;
}

// Follows the watch stream; returns the exit code once the rollout of `name` is finished.
class RolloutWatch {
 public:
  RolloutWatch(const Context& ctx, std::string name) : ctx_(ctx), name_(std::move(name)) {}

  int run() {
    http::StreamHandlers handlers;
    handlers.on_header = [this](const http::ClientResponseHeader& h) { status_ = h.result_int(); };
    handlers.on_data = [this](std::string_view data) { on_data(data); };
    handlers.on_end = [this](http::error_code ec) { end_ = ec; };
    call_ = http::ClientCall::stream(io_.get_executor(), ctx_.server,
                                     api_request(ctx_, bhttp::verb::get, api_target({"watch"})),
                                     std::chrono::seconds(30), std::move(handlers), ctx_.tls);
    io_.run();
    if (result_) return *result_;
    if (status_ >= 400) throw ApiFailure(api_error_message(status_, error_body_));
    throw ApiFailure("the watch stream of " + ctx_.server.to_string() + " ended: " +
                     (end_ ? end_.message() : "closed by duetd"));
  }

 private:
  void on_data(std::string_view data) {
    if (status_ >= 400) return void(error_body_.append(data));
    for (const auto& line : splitter_.feed(data)) {
      auto parsed = json::parse(line, nullptr, false);
      if (parsed.is_discarded() || result_) continue;
      try {
        on_event(parsed);
      } catch (const api::FieldError& e) {
        finish(1, std::string("error: a watch event duetd sent: ") + e.what());
      }
    }
  }

  void on_event(const json& line) {
    auto event = api::read_watch_event(line);
    if (event.type == api::WatchEventType::snapshot) {
      auto deployments = line.find(api::kSnapshotDeployments);
      if (deployments != line.end() && deployments->is_array())
        for (const auto& d : *deployments)
          if (api::parse_deployment_view(d).name == name_) return show(d);
      return finish(1, "error: deployment \"" + name_ + "\" not found");
    }
    if (event.kind != api::kDeploymentKind || api::parse_deployment_view(*event.object).name != name_) return;
    if (event.type == api::WatchEventType::deleted)
      return finish(1, "error: deployment \"" + name_ + "\" was deleted");
    show(*event.object);
  }

  void show(const json& deployment) {
    auto rollout = rollout_of(deployment);
    if (!rollout) return;
    auto line = rollout_summary(*rollout);
    if (line != last_line_) std::cout << clock_now() << "  " << line << std::endl;
    last_line_ = line;
    if (finished(rollout->phase)) finish(exit_code(rollout->phase), "");
  }

  void finish(int code, const std::string& message) {
    if (!message.empty()) std::cerr << message << "\n";
    result_ = code;
    call_->cancel();
  }

  const Context& ctx_;
  std::string name_;
  boost::asio::io_context io_;
  std::shared_ptr<http::ClientCall> call_;
  LineSplitter splitter_;
  int status_ = 0;
  std::string error_body_;
  http::error_code end_;
  std::string last_line_;
  std::optional<int> result_;
};

}  // namespace

int rollout(const Context& ctx, const std::string& action, const std::string& name, bool watch) {
  if (name.empty()) throw UsageError("rollout " + action + " needs a deployment name");
  try {
    if (action == "status") {
      if (watch) return RolloutWatch(ctx, name).run();
      auto deployment = call(ctx, bhttp::verb::get, api_target({"deployments", name}));
      auto rollout = rollout_of(deployment);
      std::cout << (rollout ? rollout_summary(*rollout) : "no rollout status yet") << "\n";
      return rollout ? exit_code(rollout->phase) : 0;
    }
    if (action != "promote" && action != "abort" && action != "retry")
      throw UsageError("rollout: expected status, promote, abort or retry");
    auto reply = call(ctx, bhttp::verb::post, api_target({"deployments", name, "rollout", action}));
    std::cout << "deployment/" << name << " " << reply.value("result", action) << "\n";
    return 0;
  } catch (const ApiFailure& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace duet::ctl
