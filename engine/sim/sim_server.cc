#include "sim/sim_server.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <nlohmann/json.hpp>

#include "duet/common/openai_error.h"
#include "sim/generation.h"
#include "sim/response_builder.h"

namespace duet::sim {

namespace bhttp = http::bhttp;

struct SimServer::Route {
  std::string_view path;
  bhttp::verb method;
  void (SimServer::*serve)(const ExchangePtr&);
};

SimServer::SimServer(boost::asio::io_context& io, const SimOptions& options)
    : state_(options),
      server_(io, [this](ExchangePtr exchange) { handle(exchange); },
              {.max_connections = options.max_connections}),
      started_unix_(unix_seconds()) {
  const auto& o = options;
  if (o.profile.empty()) return;
  auto engine = engine_model_options(o.profile, o.block_size, o.kv_blocks, o.prefix_caching, o.max_num_seqs,
                                     o.max_num_batched_tokens, o.time_scale);
  if (!engine) throw std::invalid_argument("--profile: no profile " + o.profile);  // parse_options checked
  state_.engine = std::make_unique<EngineCore>(io, std::move(*engine));
  state_.metrics.set_cache_config(state_.engine->capacity_tokens() / o.block_size, o.block_size);
  log_.info("engine_model", {{"profile", o.profile}, {"kvBlocks", state_.engine->capacity_tokens() / o.block_size},
                             {"blockSize", o.block_size}, {"prefixCaching", o.prefix_caching},
                             {"timeScale", o.time_scale}});
}

uint16_t SimServer::listen() {
  Address address;
  address.host = state_.options.host;
  address.port = state_.options.port;
  server_.listen(address);
  uint16_t port = server_.ports().front();
  if (state_.options.name.empty())
    state_.replies.set_replica(address.host + ":" + std::to_string(port));
  log_.info("listening", {{"port", port},
                          {"host", address.host},
                          {"name", replica()},
                          {"model", state_.options.model}});
  return port;
}

void SimServer::stop() {
  server_.stop();
  state_.parked.release_all();
}

void SimServer::stop_gracefully(std::function<void()> done) {
  server_.stop_gracefully(
      std::chrono::duration_cast<std::chrono::milliseconds>(state_.options.shutdown_timeout),
      std::move(done));
}

void SimServer::handle(const ExchangePtr& exchange) {
  static constexpr std::array<Route, 7> kRoutes = {{
      {"/v1/completions", bhttp::verb::post, &SimServer::serve_completions},
      {"/v1/chat/completions", bhttp::verb::post, &SimServer::serve_chat},
      {"/tokenize", bhttp::verb::post, &SimServer::serve_tokenize},
      {"/detokenize", bhttp::verb::post, &SimServer::serve_detokenize},
      {"/v1/models", bhttp::verb::get, &SimServer::serve_models},
      {"/health", bhttp::verb::get, &SimServer::serve_health},
      {"/metrics", bhttp::verb::get, &SimServer::serve_metrics},
  }};
  // A hung engine answers nothing, probes included: that is what duetd must detect.
  if (state_.faults.hung()) return state_.parked.park(exchange);
  const auto& request = exchange->request();
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  for (const auto& route : kRoutes) {
    if (route.path != path) continue;
    if (route.method == request.method()) return (this->*route.serve)(exchange);
    auto reply = state_.replies.response(
        bhttp::status::method_not_allowed,
        openai_error_body(405,
                          "Method Not Allowed: use " + std::string(bhttp::to_string(route.method)) +
                              " " + std::string(path),
                          openai_error_type(405)));
    reply.set(bhttp::field::allow, bhttp::to_string(route.method));
    return exchange->reply(std::move(reply));
  }
  state_.replies.send_error(*exchange, 404, "Not Found: no endpoint " + std::string(path));
}

void SimServer::serve_inference(const ExchangePtr& exchange, Api api) {
  auto arrival = Generation::Clock::now();
  switch (state_.faults.on_inference_request()) {
    case FaultInjector::Arrival::crash:
      crash();
    case FaultInjector::Arrival::hang:
      log_.warn("hang_started", {{"after", *state_.options.hang_after}});
      return state_.parked.park(exchange);
    case FaultInjector::Arrival::serve:
      break;
  }
  auto parsed = parse_request(api, exchange->request().body(), state_.limits());
  if (auto* error = std::get_if<RequestError>(&parsed))
    return state_.replies.send_error(*exchange, error->status, error->message, error->param);
  if (state_.faults.draw_failure())
    return state_.replies.send_error(*exchange, 500, "simulated failure (--fail-rate)");
  auto generation = std::make_shared<Generation>(state_, exchange, std::get<InferenceRequest>(parsed), arrival);
  generation->break_off_after(state_.faults.draw_answer_crash());
  generation->start();
}

void SimServer::serve_tokenize(const ExchangePtr& exchange) {
  serve_tokenizer(exchange, tokenize_answer);
}

void SimServer::serve_detokenize(const ExchangePtr& exchange) {
  serve_tokenizer(exchange, detokenize_answer);
}

void SimServer::serve_tokenizer(const ExchangePtr& exchange,
                                TokenizerAnswer (*answer)(std::string_view, const RequestLimits&)) {
  if (!state_.engine) {
    std::string_view target = exchange->request().target();
    std::string why = "Not Found: ";
    why.append(target.substr(0, target.find('?')))
        .append(" needs duet-sim's engine model (--profile)");
    return state_.replies.send_error(*exchange, 404, why);
  }
  auto result = answer(exchange->request().body(), state_.limits());
  if (auto* error = std::get_if<RequestError>(&result))
    return state_.replies.send_error(*exchange, error->status, error->message, error->param);
  state_.replies.send(*exchange, bhttp::status::ok, std::move(std::get<std::string>(result)));
}

void SimServer::serve_models(const ExchangePtr& exchange) {
  nlohmann::json model = {{"id", state_.options.model},
                          {"object", "model"},
                          {"created", started_unix_},
                          {"owned_by", "duet"},
                          {"root", state_.options.model},
                          {"parent", nullptr},
                          {"max_model_len", state_.options.max_model_len}};
  nlohmann::json list = {{"object", "list"}, {"data", nlohmann::json::array({model})}};
  state_.replies.send(*exchange, bhttp::status::ok, list.dump());
}

void SimServer::serve_health(const ExchangePtr& exchange) {
  state_.replies.send(*exchange, bhttp::status::ok, {});
}

void SimServer::serve_metrics(const ExchangePtr& exchange) {
  SimMetrics::Load load{state_.slots.running(), state_.slots.waiting(), state_.slots.limit()};
  if (state_.engine) {
    const auto& g = state_.engine->gauges();
    load.running = g.running.load();
    load.waiting = g.waiting.load();
    load.kv_usage = g.kv_usage.load();
    load.prefix_queries = g.prefix_queries.load();
    load.prefix_hits = g.prefix_hits.load();
    load.preemptions = g.preemptions.load();
  }
  state_.replies.send(*exchange, bhttp::status::ok, state_.metrics.render(load),
                      "text/plain; version=0.0.4; charset=utf-8");
}

// --crash-after: die like a crash, without answering or flushing anything; open
// connections see a reset, and the supervisor sees exit status 1.
void SimServer::crash() {
  log_.error("crash", {{"after", *state_.options.crash_after}});
  ::_exit(1);
}

}  // namespace duet::sim
