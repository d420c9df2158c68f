#pragma once
// duet-sim's HTTP front: routes the OpenAI endpoints, vLLM's /tokenize and /detokenize,
// /health and /metrics on top of duet::http::Server, applies the injected faults on arrival,
// and hands valid inference requests to a Generation each.

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string_view>

#include "duet/common/http_server.h"
#include "duet/common/log.h"
#include "sim/sim_state.h"
#include "sim/tokenizer_api.h"

namespace duet::sim {

class SimServer {
 public:
  SimServer(boost::asio::io_context& io, const SimOptions& options);

  // Binds --host:--port, names the replica (host:port unless --name or $DUET_REPLICA did)
  // and logs `event=listening port=N`. Throws std::system_error naming the address.
  uint16_t listen();
  // Stops accepting and closes every connection; generations in flight stop with them.
  void stop();
  // Stops accepting; answers in progress finish, or are cut after --shutdown-timeout-ms;
  // `done` runs once every connection is closed.
  void stop_gracefully(std::function<void()> done);

  const std::string& replica() const { return state_.replies.replica(); }

 private:
  using ExchangePtr = std::shared_ptr<http::Exchange>;
  struct Route;

  void handle(const ExchangePtr& exchange);
  void serve_inference(const ExchangePtr& exchange, Api api);
  void serve_completions(const ExchangePtr& exchange) {
    serve_inference(exchange, Api::completions);
  }
  void serve_chat(const ExchangePtr& exchange) { serve_inference(exchange, Api::chat); }
  void serve_tokenize(const ExchangePtr& exchange);
  void serve_detokenize(const ExchangePtr& exchange);
  // /tokenize and /detokenize: `answer` with the engine model, else a 404.
  void serve_tokenizer(const ExchangePtr& exchange,
                       TokenizerAnswer (*answer)(std::string_view, const RequestLimits&));
  void serve_models(const ExchangePtr& exchange);
  void serve_health(const ExchangePtr& exchange);
  void serve_metrics(const ExchangePtr& exchange);
  [[noreturn]] void crash();

  Logger log_{"sim"};
  SimState state_;
  http::Server server_;
  int64_t started_unix_;
};

}  // namespace duet::sim
