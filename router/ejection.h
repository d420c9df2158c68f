#pragma once
// Passive health checks (SPEC §5 step 7): an endpoint that refuses, resets or times out
// before the response header is taken out of rotation at once; one that answers 5xx is
// after kEjectAfter5xx answers in a row. An ejection lasts the base time (5 s) doubled for
// each ejection in a row, at most 64 times the base; a good response resets both counts.
// At most half of a pool is ejected at a time, unless every endpoint in it is failing.
// The state lives in EndpointLoad (atomics), so every worker sees an ejection at once.

#include <chrono>

#include "router/routing_table.h"

namespace duet::router {

inline constexpr std::chrono::seconds kEjectionBase{5};
inline constexpr unsigned kEjectAfter5xx = 3;

enum class Failure { connection, status_5xx };

// Counts a failure of `endpoint` (a member of `pool`); true when it was ejected by it.
bool report_failure(const Pool& pool, const Endpoint& endpoint, Failure failure,
                    std::chrono::steady_clock::time_point now);
// A response that was not a 5xx.
void report_success(const Endpoint& endpoint);

}  // namespace duet::router
