#include "sim/sim_state.h"

#include <nlohmann/json.hpp>
#include <random>

namespace duet::sim {

namespace {

uint64_t pick_seed(const SimOptions& options) {
  if (options.seed) return *options.seed;
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

SimState::SimState(const SimOptions& opts)
    : options(opts),
      model_json(nlohmann::json(opts.model).dump()),
      id_seed(pick_seed(opts)),
      latency(opts.ttft, opts.tpot),
      slots(opts.max_concurrency),
      faults(opts.crash_after, opts.hang_after, opts.fail_rate, mix64(id_seed), opts.answer_crash),
      metrics(opts.model) {
  replies.set_replica(opts.name);
}

RequestLimits SimState::limits() const {
  if (!engine) return {options.model, options.output_tokens, options.max_model_len};
  // A sequence must fit the KV cache whole, or it could never be scheduled.
  return {options.model, options.output_tokens, std::min<uint64_t>(options.max_model_len, engine->capacity_tokens()),
          true, options.token_ids};
}

}  // namespace duet::sim
