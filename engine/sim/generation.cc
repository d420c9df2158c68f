#include "sim/generation.h"

#include <boost/asio/post.hpp>
#include <chrono>

#include "duet/common/openai_error.h"
#include "sim/sse.h"

namespace duet::sim {

namespace asio = boost::asio;
namespace bhttp = http::bhttp;

namespace {

double to_seconds(LatencyModel::Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

Generation::Generation(SimState& state, std::shared_ptr<http::Exchange> exchange,
                       const InferenceRequest& request, Clock::time_point arrival)
    : state_(state),
      exchange_(std::move(exchange)),
      request_(request),
      builder_(request.api, response_id(request.api, state.next_id()), unix_seconds(),
               state.model_json, stream_usage(request)),
      ending_{request.max_tokens, request.max_tokens_given ? "length" : "stop",
              Usage{request.prompt_tokens, request.max_tokens}},
      timer_(exchange_->executor()),
      arrival_(arrival),
      output_(request.stop) {
  if (request.return_token_ids) builder_.return_token_ids(request.prompt_ids);
  if (request.stop.strings.empty()) return;
  builder_.report_stop_reason();
  if (!state_.engine) plan_stop_strings();
}

// The latency model's words (" tok0 tok1 ...") are known in advance, and so is where a stop
// string ends them: each token's text as a stream may send it, once.
void Generation::plan_stop_strings() {
  std::vector<std::string> texts;
  while (texts.size() < ending_.tokens && !output_.stopped()) {
    uint64_t index = texts.size();
    texts.emplace_back(output_.add(token_text(index), index + 1 == ending_.tokens));
  }
  if (output_.stopped()) end_at_stop(texts.size());
  builder_.token_texts(std::move(texts));
}

void Generation::end_at_stop(uint64_t tokens) {
  ending_.tokens = tokens;
  ending_.finish_reason = "stop";
  ending_.stop_reason = output_.stop_reason();
  ending_.usage.completion_tokens = tokens;
}

void Generation::start() {
  if (state_.engine) return run();  // the engine model queues and batches by itself
  auto admission = state_.slots.admit([self = shared_from_this()] {
    // The slot was freed on another connection's strand; continue on ours.
    asio::post(self->exchange_->executor(), [self] { self->on_granted(); });
  });
  ticket_ = admission.ticket;
  if (admission.granted) return run();
  watch_client();
}

void Generation::on_granted() {
  if (phase_ == Phase::done) return release_slot();  // the client left while the grant came
  if (state_.faults.hung()) {
    phase_ = Phase::done;
    return state_.parked.park(std::move(exchange_));
  }
  run();
}

void Generation::run() {
  phase_ = Phase::running;
  started_ = Clock::now();
  state_.metrics.add_prompt_tokens(request_.prompt_tokens);
  if (state_.engine) return run_on_engine();
  if (state_.latency.instant()) return answer_at_once();
  watch_client();
  if (!request_.stream) return arm_timer(state_.latency.completion_due(started_, ending_.tokens));
  exchange_->begin_stream(state_.replies.stream_header());
  answered_ = true;
  arm_timer(state_.latency.token_due(started_, 0));
}

void Generation::run_on_engine() {
  watch_client();
  if (request_.stream) {
    exchange_->begin_stream(state_.replies.stream_header());
    answered_ = true;
  }
  engine_id_ = state_.engine->submit(std::move(request_.prompt_ids), ending_.tokens, exchange_->executor(),
                                     [self = shared_from_this()](const TokenEvent& token) {
                                       self->on_engine_token(token);
                                     });
}

void Generation::on_engine_token(const TokenEvent& token) {
  if (phase_ != Phase::running) return;
  if (breaks_off_at(token.index)) return break_off();
  auto now = Clock::now();
  if (token.index == 0) state_.metrics.observe_first_token(seconds_since_arrival(now));
  ending_.usage.cached_tokens = token.cached_tokens;
  sent_ = token.index + 1;
  std::string_view delta = output_.add(token.text, token.last);
  bool last = token.last || output_.stopped();
  if (output_.stopped()) {
    end_at_stop(sent_);
    if (!token.last) state_.engine->abort(engine_id_);  // its sequence ends here; blocks go back
  }
  if (!request_.stream) {
    if (!last) return;
    state_.replies.send(*exchange_, bhttp::status::ok,
                        builder_.whole_text(output_.text(), ending_));
    answered_ = true;
    return succeed(now);
  }
  std::string events;
  append_sse_event(events, builder_.text_chunk(delta, token.index == 0, token.id));
  if (last) events.append(builder_.closing_events(ending_));
  exchange_->send(events);
  if (!last) return;
  exchange_->finish();
  succeed(now);
}

// The benchmark path: no timers, one write, whether streamed or not.
void Generation::answer_at_once() {
  if (breaks_off_early()) {
    sent_ = *break_off_after_;
    if (request_.stream) {
      exchange_->begin_stream(state_.replies.stream_header());
      exchange_->send(builder_.sse_events(0, sent_, ending_));
    }
    return break_off();
  }
  auto now = Clock::now();
  state_.metrics.observe_first_token(seconds_since_arrival(now));
  if (request_.stream)
    state_.replies.send(*exchange_, bhttp::status::ok,
                        builder_.sse_events(0, ending_.tokens, ending_), kSseContentType);
  else
    state_.replies.send(*exchange_, bhttp::status::ok, builder_.whole(ending_));
  answered_ = true;
  succeed(now);
}

void Generation::arm_timer(Clock::time_point due) {
  timer_.expires_at(due);
  timer_.async_wait(
      [self = shared_from_this()](boost::system::error_code ec) { self->on_timer(ec); });
}

void Generation::on_timer(boost::system::error_code ec) {
  if (ec || phase_ != Phase::running) return;
  if (state_.faults.hung()) {
    // A hung engine stops mid-answer too; the slot stays taken, as it would.
    phase_ = Phase::done;
    return state_.parked.park(std::move(exchange_));
  }
  auto now = Clock::now();
  if (request_.stream) return stream_due_tokens(now);
  if (breaks_off_early()) {
    sent_ = *break_off_after_;  // the whole answer would have held them
    return break_off();
  }
  // Queueing plus ttft: when the first token would have been ready inside the engine.
  state_.metrics.observe_first_token(to_seconds(started_ - arrival_ + state_.latency.ttft()));
  state_.replies.send(*exchange_, bhttp::status::ok, builder_.whole(ending_));
  answered_ = true;
  succeed(now);
}

void Generation::stream_due_tokens(Clock::time_point now) {
  uint64_t due = std::max(state_.latency.tokens_due(started_, now, ending_.tokens), sent_ + 1);
  if (breaks_off_early()) {
    due = std::min(due, *break_off_after_);
    if (due <= sent_) return break_off();
  }
  if (sent_ == 0) state_.metrics.observe_first_token(seconds_since_arrival(now));
  // Tokens that fell due together (a late timer, tpot 0) go out as one write.
  exchange_->send(builder_.sse_events(sent_, due, ending_));
  sent_ = due;
  if (sent_ < ending_.tokens) return arm_timer(state_.latency.token_due(started_, sent_));
  exchange_->finish();
  succeed(now);
}

void Generation::succeed(Clock::time_point now) {
  phase_ = Phase::done;
  sent_ = ending_.tokens;
  state_.metrics.add_generation_tokens(ending_.tokens);
  state_.metrics.observe_success(seconds_since_arrival(now), ending_.finish_reason);
  release_slot();
}

void Generation::watch_client() {
  if (watching_) return;
  watching_ = true;
  exchange_->on_client_gone([weak = weak_from_this()] {
    if (auto self = weak.lock()) self->on_client_gone();
  });
  exchange_->on_cut([weak = weak_from_this()] {
    if (auto self = weak.lock()) self->on_cut();
  });
}

void Generation::on_client_gone() {
  if (phase_ == Phase::done) return;
  stop_early();
  // The connection is closed, so this reply is dropped; it only marks the request
  // answered so that the server does not report it as abandoned.
  if (!answered_) exchange_->reply(bhttp::status::service_unavailable, {});
  answered_ = true;
}

// What a real engine's shutdown does to a request it could not finish in time: a stream gets
// an error event in the OpenAI shape and ends without `[DONE]`, so that a client can tell.
void Generation::on_cut() {
  if (phase_ == Phase::done) return;
  stop_early();
  static constexpr std::string_view kWhy = "the engine is shutting down; this answer was cut";
  if (answered_) {
    exchange_->send(sse_event(openai_error_body(503, kWhy, openai_error_type(503))));
    exchange_->finish();
  } else {
    state_.replies.send_error(*exchange_, 503, kWhy);
  }
  answered_ = true;
}

// An injected fault (--crash-after-tokens): the answer ends after the sent_ tokens the way
// an engine's answer ends when it dies (fault_injector.h's CrashMode). The request counts as
// aborted.
void Generation::break_off() {
  stop_early();
  answered_ = true;
  auto mode = state_.faults.crash_mode();
  static constexpr std::string_view kWhy = "the engine failed in the middle of this answer (--crash-mode)";
  Ending cut{sent_, mode == CrashMode::abort ? "abort" : "", ending_.usage};
  cut.usage.completion_tokens = sent_;
  switch (mode) {
    case CrashMode::rst:
    case CrashMode::fin:
      return exchange_->break_off(mode == CrashMode::rst);
    case CrashMode::stall:
      return state_.parked.park(std::move(exchange_));
    case CrashMode::error_event_then_done:
      if (!request_.stream) return state_.replies.send_error(*exchange_, 500, kWhy);
      exchange_->send(sse_event(openai_error_body(500, kWhy, openai_error_type(500))).append(kSseDone));
      return exchange_->finish();
    case CrashMode::no_finish:
    case CrashMode::abort:
      if (!request_.stream) {
        auto whole = state_.engine ? builder_.whole_text(output_.text(), cut) : builder_.whole(cut);
        return state_.replies.send(*exchange_, bhttp::status::ok, std::move(whole));
      }
      std::string events;
      if (mode == CrashMode::abort) events = builder_.closing_events(cut);
      else events.append(kSseDone);
      exchange_->send(events);
      return exchange_->finish();
  }
}

void Generation::stop_early() {
  Phase was = phase_;
  phase_ = Phase::done;
  state_.metrics.observe_abort();
  if (was == Phase::running && state_.engine) {
    state_.engine->abort(engine_id_);
    state_.metrics.add_generation_tokens(sent_);
  } else if (was == Phase::running) {
    timer_.cancel();
    state_.metrics.add_generation_tokens(sent_);
    release_slot();
  } else {
    // Still waiting: leave the queue. If the grant is already on its way instead,
    // on_granted() sees Phase::done and hands the slot on.
    state_.slots.cancel(ticket_);
  }
}

void Generation::release_slot() {
  if (state_.engine) return;  // no slot was taken
  if (auto next = state_.slots.release()) next();
}

double Generation::seconds_since_arrival(Clock::time_point now) const {
  return to_seconds(now - arrival_);
}

}  // namespace duet::sim
