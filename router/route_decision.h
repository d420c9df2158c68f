#pragma once
// The routing decision for one request (SPEC §5 steps 4-6): the route by path and model,
// the size pool by the token estimate, the version, and the endpoint by power of two
// choices. Pure functions over an immutable RoutingTable: they run on a worker thread and
// never block or throw.

#include <array>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "router/pick_reason.h"
#include "router/request_body.h"
#include "router/routing_table.h"

namespace duet::router {

// The first route of `table` whose prefix matches `path` (query string ignored) and whose
// model, if it names one, equals the body's. Null when none matches.
const Route* match_route(const RoutingTable& table, std::string_view target, RequestBody& body);

enum class SizePool : uint8_t { small, large, backend };
const char* to_string(SizePool pool);

// Below the threshold → small, else large.
SizePool choose_size_pool(const api::SizeRouting& routing, uint64_t tokens);

// A deployment and track to take endpoints from.
struct Target {
  const Deployment* deployment = nullptr;
  SizePool pool = SizePool::backend;
  Track track = Track::stable;
};

// What the request says about its version (SPEC §5 step 5).
struct VersionHint {
  std::string_view canary_header;  // the value of the route's canaryHeader; empty: absent
  std::string_view sticky_key;     // the stickiness claim's value, else the client address
  std::string_view session_header = {};  // the value of scheduling.sessionHeader; empty: absent
};

// Where a request sticks in [0, 10000): it goes to the canary when this is below the
// weight × 100, so raising the weight only moves users from stable to canary, never back.
uint32_t sticky_bucket(std::string_view key);

// canaryHeader value → canary, "false" → stable, else the sticky bucket against the weight.
// `forced` tells whether the header decided.
Track choose_track(const api::Route& route, const Deployment* deployment, const VersionHint& hint,
                   bool& forced);

// Where a request may go, best first: the chosen pool and version, then the other version
// (not the canary when the header asked for stable), then the other size pool (SPEC §5
// step 7 fallbacks).
struct Decision {
  const Route* route = nullptr;
  std::array<Target, 4> targets{};
  std::size_t target_count = 0;
  uint64_t tokens = 0;  // the estimate used; 0 for backend routes, which need none
  // For the route's scheduling policy (scheduler.h): the prompt's prefix chunks (prefix
  // policies only) and the key sessionAffinity hashes.
  std::vector<uint64_t> prefix_chunks;
  std::string session_key;
  uint32_t prompt_tokens = 0;  // duet only: the estimate its predicted TTFT starts from
};

Decision decide(const Route& route, RequestBody& body, const VersionHint& hint);

// A small fast generator, one per worker thread (p2c needs no cryptographic quality).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  // Uniform in [0, n); n > 0.
  uint32_t below(uint32_t n) { return static_cast<uint32_t>((next() >> 32) * n >> 32); }

 private:
  uint64_t state_;
};

// Power of two choices on in-flight counts among `pool` minus `tried` minus the endpoints
// ejected at `now`; null when none is left.
const Endpoint* pick_endpoint(const Pool& pool, Rng& rng, std::span<const Endpoint* const> tried,
                              std::chrono::steady_clock::time_point now);

struct Pick {
  const Target* target = nullptr;
  const Endpoint* endpoint = nullptr;  // null: nothing Ready and untried anywhere
  PickReason why;
};

// `pick` as the x-duet-decision header says it: `policy=duet pool=small prefix=12/16
// ttft_ms=240 spill=no` (fields that do not apply are left out). No allocation beyond `out`'s.
void append_decision_text(const Decision& decision, const Pick& pick, std::string& out);

class PrefixIndex;

// The first target of `decision` with an untried Ready endpoint in rotation, and that
// endpoint, as the route's scheduling policy chooses it (scheduler.h); prefix policies look
// up and record in `index` (null: they fall back to leastRequest). Under duet with size
// routing, a request for the small pool spills to the large one when the small pool's pick is
// predicted to start more than spill.marginMs later than the large pool's.
Pick pick(const Decision& decision, Rng& rng, std::span<const Endpoint* const> tried,
          std::chrono::steady_clock::time_point now, PrefixIndex* index = nullptr);

// Where a stream goes on after its engine failed mid-answer (stream_splicer.h): the one
// target it was answered from (the same deployment and track: the same model and version,
// never a fallback), looked up in `newest` so that engines duetd started since the request
// began are candidates. `original`'s route is kept (its table outlives the request); the
// target's deployment is null when `newest` no longer has it.
Decision continuation(const Decision& original, const Target& answered_from, const RoutingTable& newest);

// The endpoints of `decision`'s targets at the addresses of `tried` (endpoints of an older
// table), written to `out`; returns how many. A continuation leaves out the engines that
// failed, whichever table they came from.
std::size_t same_endpoints(const Decision& decision, std::span<const Endpoint* const> tried,
                           std::span<const Endpoint*> out);

}  // namespace duet::router
