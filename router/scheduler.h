#pragma once
// Which endpoint of a pool serves a request: the route's scheduling policy (Route
// spec.scheduling, docs/scheduling.md), run inside the proxy on the worker thread, without
// an extra hop.
//
// - leastRequest: power of two choices on requests in flight (pick_endpoint).
// - roundRobin: each worker in turn over the usable endpoints.
// - sessionAffinity: rendezvous hashing of the session key (sessionHeader, else the
//   stickiness key), so a session stays on one endpoint and only its sessions move when the
//   pool changes; an endpoint over the affinity bound (maxAffinityInFlight and twice the
//   pool's mean load) is passed over.
// - prefix, duet: each usable endpoint scores weights.prefix × the share of the prompt's
//   leading chunks it served lately (PrefixIndex), unless it is over the affinity bound,
//   minus weights.queue × its load over the pool's most; the best wins, ties to the less
//   loaded. Load is the router's requests in flight; `duet` also takes the engine's own queue
//   when its /metrics (EngineScraper) said more, subtracts weights.kvUtilization × the share
//   of its KV cache in use and weights.ttft × how many doublings its predicted TTFT
//   (ttft_model.h) is over the pool's soonest (for an endpoint holding part of the prompt,
//   the doublings its queue adds count a quarter each, the first three), and, for a prompt
//   no endpoint holds half of, weights.cachePressure × the doublings of its cache's turnover
//   over the pool's (cache_pressure.h);
//   and it moves a request off the endpoint holding most of its prompt only to one predicted
//   to start it sooner. The caller records the final pick in the index (pick(), which may
//   still spill to the other size pool).

#include <chrono>
#include <span>

#include "router/prefix_index.h"
#include "router/route_decision.h"

namespace duet::router {

const Endpoint* schedule(const Pool& pool, const Decision& decision, Rng& rng,
                         std::span<const Endpoint* const> tried, std::chrono::steady_clock::time_point now,
                         const PrefixIndex* index, PickReason& why);

// What llm-d's approximate prefix scorer assumes every server holds when it is not told
// (its default lruCapacityPerServer: 31,250 blocks of 16 tokens), in the index's chunks.
inline constexpr uint32_t kApproximateCapacityChunks = static_cast<uint32_t>(31'250 * 16 / kTokensPerPrefixChunk);

// The index's view of `e`'s cache under `policy`: `duet` believes the size the engine
// reports (eviction-aware); `prefix`, llm-d's approximate scheduling with its defaults,
// assumes kApproximateCapacityChunks whatever the engine holds.
CacheView cache_view(const Endpoint& e, api::SchedulingPolicy policy);

}  // namespace duet::router
