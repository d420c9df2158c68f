#pragma once
// What the duet-sim server and every generation in flight share: the options, the latency
// model, the concurrency slots, the faults, the metrics and the reply maker. It outlives
// them all.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "sim/engine_core.h"
#include "sim/fault_injector.h"
#include "sim/latency_model.h"
#include "sim/parking_lot.h"
#include "sim/replies.h"
#include "sim/request_parser.h"
#include "sim/sim_metrics.h"
#include "sim/sim_options.h"
#include "sim/slot_queue.h"

namespace duet::sim {

struct SimState {
  explicit SimState(const SimOptions& options);

  RequestLimits limits() const;
  // A fresh, unpredictable response id value.
  uint64_t next_id() { return mix64(id_seed ^ ids.fetch_add(1, std::memory_order_relaxed)); }

  const SimOptions options;
  const std::string model_json;  // the model name as a JSON string, escaped once
  const uint64_t id_seed;
  LatencyModel latency;
  SlotQueue slots;
  FaultInjector faults;
  SimMetrics metrics;
  Replies replies;
  ParkingLot parked;
  std::atomic<uint64_t> ids{0};
  // The engine model (--profile); null: the latency model answers.
  std::unique_ptr<EngineCore> engine;
};

}  // namespace duet::sim
