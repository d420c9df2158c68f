#pragma once
// One valid inference request from admission to its last token: it waits for a
// concurrency slot, then answers whole after ttft + tpot * (n - 1), or streams one SSE
// chunk per token on a timer on its connection's strand. A client that goes away stops
// it at once and frees its slot; a graceful stop past its timeout ends it with an error.

#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>

#include "sim/response_builder.h"
#include "sim/sim_state.h"
#include "sim/stop_strings.h"

namespace duet::sim {

class Generation : public std::enable_shared_from_this<Generation> {
 public:
  using Clock = LatencyModel::Clock;

  Generation(SimState& state, std::shared_ptr<http::Exchange> exchange,
             const InferenceRequest& request, Clock::time_point arrival);

  // Asks for a slot and runs at once if one is free. Call on the exchange's executor.
  void start();
  // The answer breaks off after `tokens` tokens (an injected fault, --crash-after-tokens),
  // in the way --crash-mode says. Before start().
  void break_off_after(std::optional<uint64_t> tokens) { break_off_after_ = tokens; }

 private:
  enum class Phase { queued, running, done };

  void on_granted();
  void run();
  // The engine model's path: the engine batches and queues; tokens arrive as steps end.
  void run_on_engine();
  void on_engine_token(const TokenEvent& token);
  // The latency model's answer with the request's stop strings applied, planned in advance.
  void plan_stop_strings();
  // A stop string ended the answer at its token `tokens` (counted, like every token before).
  void end_at_stop(uint64_t tokens);
  void answer_at_once();
  void arm_timer(Clock::time_point due);
  void on_timer(boost::system::error_code ec);
  void stream_due_tokens(Clock::time_point now);
  void succeed(Clock::time_point now);
  void watch_client();
  void on_client_gone();
  void on_cut();
  // True when the answer breaks off before token `index` (0 = the first).
  bool breaks_off_at(uint64_t index) const { return break_off_after_ && index >= *break_off_after_; }
  // True when it breaks off before its last token: the paths that write many tokens at once.
  bool breaks_off_early() const { return break_off_after_ && *break_off_after_ < ending_.tokens; }
  void break_off();
  // Stops what runs for the request (its timer, its engine sequence, its slot or place in
  // the queue) when it ends before its last token.
  void stop_early();
  void release_slot();
  double seconds_since_arrival(Clock::time_point now) const;

  SimState& state_;
  std::shared_ptr<http::Exchange> exchange_;
  InferenceRequest request_;
  ResponseBuilder builder_;
  Ending ending_;
  boost::asio::steady_timer timer_;
  Clock::time_point arrival_;
  Clock::time_point started_;
  Phase phase_ = Phase::queued;
  uint64_t ticket_ = 0;
  uint64_t sent_ = 0;  // tokens streamed so far
  uint64_t engine_id_ = 0;
  OutputText output_;  // the engine model's answer so far, with the stop strings applied
  bool answered_ = false;
  bool watching_ = false;
  std::optional<uint64_t> break_off_after_;
};

}  // namespace duet::sim
